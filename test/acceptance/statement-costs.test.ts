/**
 * How many SQL statements the requests every client makes cost, and which:
 * the numbers the README gives, held here so that a change that adds a
 * statement to the hot path has to say so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, GENERATE, INTROSPECT_PATH, mint, oauthPost, VIEWER, type Cast } from '../support/operations.ts';
import { graphql } from '../generated/index.ts';

const INTROSPECT_ACTIVE = graphql(`
  query IntrospectActive($token: String!) {
    introspectToken(token: $token) { active scope }
  }
`);

describe.each(engines())('SQL statements per request on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let statements: string[] = [];

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => statements.push(sql));
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  async function measured<T>(work: () => Promise<T>): Promise<string[]> {
    statements = [];
    await work();
    await new Promise((resolve) => setImmediate(resolve));
    return statements;
  }

  it('authenticates a request with one indexed SELECT and no write', async () => {
    const issued = await measured(async () => expectNoErrors(await server.request(VIEWER, {}, { token: people.alice })));
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatch(/^\s*SELECT\b[\s\S]*secret_hash/i);
  });

  it('writes the uses of a second of requests in one batch', async () => {
    await measured(() => server.tessera.flushUsage());
    for (let index = 0; index < 5; index += 1) expectNoErrors(await server.request(VIEWER, {}, { token: people.bob }));
    const issued = await measured(() => server.tessera.flushUsage());
    // One UPDATE for the token, however many times it was used (SQLite: a prepared UPDATE per token in one transaction).
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatch(/^\s*UPDATE\b[\s\S]*last_used_at/i);
  });

  it('mints a USER token in one transaction: the row, its scope rows and its entry (one statement on PostgreSQL)', async () => {
    const issued = await measured(async () => {
      const result = await server.request(GENERATE, { input: { name: 'costed', scopes: ['read:all', 'user:token'] } }, { token: people.alice });
      expect(expectNoErrors(result).generateToken.__typename).toBe('GenerateTokenPayload');
    });
    const writes = issued.slice(1);
    expect(issued[0]).toMatch(/^\s*SELECT\b[\s\S]*secret_hash/i);
    if (engine === 'sqlite') {
      expect(writes.map((sql) => /INSERT INTO (\w+)/.exec(sql)?.[1])).toEqual(['tokens', 'token_scopes', 'token_scopes', 'token_change_history']);
    } else {
      expect(writes).toHaveLength(1);
      expect(writes[0]).toMatch(/INSERT INTO "tokens"[\s\S]*INSERT INTO "token_scopes"[\s\S]*INSERT INTO "token_change_history"/);
    }
  });

  it('introspects with two SELECTs: the caller and the token', async () => {
    const target = await mint(server, people.alice, { name: 'introspected', scopes: ['read:all'] });
    const issued = await measured(async () => expectNoErrors(await server.request(INTROSPECT_ACTIVE, { token: target.secret }, { token: people.admin })));
    expect(issued).toHaveLength(2);
    for (const sql of issued) expect(sql).toMatch(/^\s*SELECT\b[\s\S]*secret_hash/i);
  });

  it('answers POST /oauth/introspect with the caller and the token looked up together: one statement on PostgreSQL', async () => {
    const target = await mint(server, people.alice, { name: 'introspected-by-form', scopes: ['read:all'] });
    const issued = await measured(async () => {
      const answer = await oauthPost(server, INTROSPECT_PATH, { token: target.secret }, { token: people.admin });
      expect(answer.body).toMatchObject({ active: true, jti: target.token.key });
    });
    // SQLite's lookups are synchronous calls on one connection, no round trip to save: one statement each.
    expect(issued).toHaveLength(engine === 'sqlite' ? 2 : 1);
    for (const sql of issued) expect(sql).toMatch(/^\s*SELECT\b[\s\S]*secret_hash/i);
  });
});
