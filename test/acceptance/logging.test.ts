/**
 * Logs are structured JSON, and a token string never appears in one: not when
 * it is minted, used, refused, or sent where it does not belong, even at the
 * most verbose level.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../../src/domain/generators/index.ts';
import type { GeneratedToken, TokenGenerator, TokenInfo } from '../../src/domain/generators/types.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import { cast, generate, GENERATE, HISTORY, HISTORY_SINCE, mint, NODE_BY_ID, REVOKE, revoke, TOKEN, TOKENS, VIEWER, type Cast } from '../support/operations.ts';

/** A generator that fails as no client could make it fail: the stand-in for an unexpected fault. */
class ExplodingGenerator implements TokenGenerator {
  readonly id = 'exploding';
  readonly deprecated = false;
  readonly requiredInfoKeys = [] as const;
  defaultTokenInfo(): TokenInfo {
    return {};
  }
  createToken(): GeneratedToken {
    throw new Error('the entropy source is gone');
  }
  validateToken(): boolean {
    return false;
  }
}

interface LogLine {
  level: number;
  msg?: string;
  code?: string;
  stack?: string;
  err?: { stack?: string; message?: string };
  [key: string]: unknown;
}

describe.each(engines())('logging on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const generators = createDefaultRegistry();
    generators.register(new ExplodingGenerator());
    server = await startServer(engine, { logger: pino({ level: 'trace' }, sink), generators });
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  it('writes every line as JSON and none with a token string in it', async () => {
    const minted = await mint(server, BOOTSTRAP_TOKEN, { username: 'lena', name: 'laptop', scopes: ['user:token', 'read:all'] });
    const legacy = await mint(server, BOOTSTRAP_TOKEN, { username: 'lena', name: 'old', tokenGeneratorId: 'legacy_sha1', scopes: ['read:all'] });
    const secrets = [BOOTSTRAP_TOKEN, minted.secret, legacy.secret];

    const status = async (token: string) => (await server.request(VIEWER, {}, { token })).status;
    expect(await status(minted.secret)).toBe(200);
    expect(await status(legacy.secret)).toBe(200);
    // A token pasted where a key goes, and into a query that does not parse (untyped on purpose).
    await server.request(TOKEN, { key: minted.secret }, { token: minted.secret });
    await server.requestText(`{ token(key: "${minted.secret}") { key `, { token: minted.secret });
    // Refusals: a typo, then the real token once revoked.
    const typo = minted.secret.slice(0, -1) + (minted.secret.endsWith('x') ? 'y' : 'x');
    expect(await status(typo)).toBe(401);
    await revoke(server, BOOTSTRAP_TOKEN, minted.token.key);
    expect(await status(minted.secret)).toBe(401);

    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    for (const secret of secrets) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
      // Nor a recognizable piece of one (a truncated log field would still leak most of it).
      expect(lines.filter((line) => line.includes(secret.slice(0, 24)))).toEqual([]);
    }
    // The refusals were logged, by what failed and from where.
    expect(lines.some((line) => line.includes('"failure":"malformed"'))).toBe(true);
    expect(lines.some((line) => line.includes('"failure":"invalid"'))).toBe(true);
  });

  /** The lines logged while `work` ran, parsed. */
  async function linesDuring(work: () => Promise<void>): Promise<{ raw: string[]; parsed: LogLine[] }> {
    const start = lines.length;
    await work();
    // pino writes synchronously to the sink; give any line still in flight a tick.
    await new Promise((resolve) => setImmediate(resolve));
    const raw = lines.slice(start);
    return { raw, parsed: raw.map((line) => JSON.parse(line) as LogLine) };
  }

  it('echoes no token string in any error body or log line, whatever path the string takes', async () => {
    const vendor = await mint(server, BOOTSTRAP_TOKEN, { username: 'mona', name: 'vendor', scopes: ['user:token'] });
    const gafaelfawr = await mint(server, BOOTSTRAP_TOKEN, { username: 'mona', name: 'gafaelfawr', scopes: ['user:token'], tokenGeneratorId: 'gafaelfawr' });
    const legacy = await mint(server, BOOTSTRAP_TOKEN, { username: 'mona', name: 'legacy', scopes: ['user:token'], tokenGeneratorId: 'legacy_sha1' });
    const secrets = [BOOTSTRAP_TOKEN, people.admin, people.alice, people.bob, vendor.secret, gafaelfawr.secret, legacy.secret];
    const bodies: string[] = [];
    const keep = (response: GraphQLResponse) => {
      bodies.push(JSON.stringify(response.body));
      return response;
    };

    const { raw } = await linesDuring(async () => {
      for (const secret of [vendor.secret, gafaelfawr.secret, legacy.secret]) {
        const as = { token: vendor.secret };
        keep(await server.request(NODE_BY_ID, { id: secret }, as));
        keep(await server.request(TOKEN, { key: secret }, as));
        keep(await server.request(HISTORY, { first: 5, after: secret }, as));
        keep(await server.request(TOKENS, { last: 5, before: secret }, as));
        keep(await server.request(HISTORY, { filter: { key: secret } }, as));
        keep(await server.request(HISTORY, { filter: { ipAddress: secret } }, as));
        keep(await server.request(HISTORY_SINCE, { since: secret }, as));
        keep(await server.request(REVOKE, { input: { key: secret, reason: secret } }, as));
        keep(await server.request(GENERATE, { input: { tokenType: 'NOTEBOOK', parent: secret, scopes: [] } }, as));
        keep(await server.request(GENERATE, { input: { name: 'pasted', scopes: [secret] } }, as));
        // (A string of 64 characters or fewer is a name like any other; a longer one is refused.)
        if (secret.length > 64) keep(await server.request(GENERATE, { input: { name: secret, scopes: [] } }, as));
        keep(await server.request(TOKENS, { filter: { keys: [secret] }, username: secret }, as));
        // Malformed JSON around a token string: the parser's complaint must not carry the body.
        const malformed = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${vendor.secret}` },
          body: `{"query": "{ viewer { username } }", "variables": {"t": "${secret}"`,
        });
        bodies.push(await malformed.text());
      }
      keep(await server.request(TOKENS, { first: 9_999_999_999 }, { token: vendor.secret }));
      keep(await server.request(HISTORY_SINCE, { since: 'yesterday' }, { token: vendor.secret }));
    });

    expect(bodies.length).toBeGreaterThan(30);
    expect(raw.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(bodies.filter((body) => body.includes(secret) || body.includes(secret.slice(0, 24))).map((body) => body.slice(0, 600))).toEqual([]);
      expect(raw.filter((line) => line.includes(secret) || line.includes(secret.slice(0, 24)))).toEqual([]);
    }
    // The refusals were real errors, not successes.
    expect(bodies.every((body) => body.includes('"code"'))).toBe(true);
  });

  it('logs client errors at info without a stack, never at error level', async () => {
    const { parsed } = await linesDuring(async () => {
      await server.request(HISTORY, { first: 5, after: 'not-a-cursor' }, { token: people.alice });
      await server.request(HISTORY, { filter: { ipAddress: '10.0.0.0/99' } }, { token: people.alice });
      await server.request(HISTORY, { first: 1001 }, { token: people.alice });
      await server.request(TOKENS, { username: 'bob' }, { token: people.alice });
      await server.request(TOKEN, { key: 'not-a-key' }, { token: people.alice });
      await generate(server, people.alice, { name: 'n'.repeat(65), scopes: [] });
      await generate(server, people.alice, { username: 'bob', name: 'for-bob', scopes: [] });
    });

    expect(parsed.filter((line) => line.level >= 50)).toEqual([]);
    const refused = parsed.filter((line) => typeof line.code === 'string');
    expect(new Set(refused.map((line) => line.code))).toEqual(
      new Set(['BAD_CURSOR', 'BAD_IP_FILTER', 'PAGE_SIZE_TOO_LARGE', 'PERMISSION_DENIED', 'INVALID_INPUT']),
    );
    for (const line of refused) {
      expect(line.level).toBe(30);
      expect(JSON.stringify(line)).not.toContain('stack');
    }
  });

  it('logs every permission denial at info with the actor, the operation and the owners', async () => {
    const { parsed } = await linesDuring(async () => {
      await server.request(TOKENS, { username: 'bob' }, { token: people.alice });
      await generate(server, people.alice, { username: 'bob', name: 'for-bob', scopes: [] });
      await generate(server, people.alice, { tokenType: 'SERVICE', username: 'bot-x', scopes: [] });
    });
    const denials = parsed.filter((line) => line.msg === 'permission denied');
    expect(denials.map(({ level, actor, operation, owners }) => ({ level, actor, operation, owners }))).toEqual([
      { level: 30, actor: 'alice', operation: 'read tokens', owners: ['bob'] },
      { level: 30, actor: 'alice', operation: 'generate tokens', owners: ['bob'] },
      { level: 30, actor: 'alice', operation: 'create service tokens', owners: ['bot-x'] },
    ]);
  });

  it('logs an unexpected fault at error level and masks it in the response', async () => {
    let response: GraphQLResponse | undefined;
    const { parsed } = await linesDuring(async () => {
      response = await server.request(GENERATE, { input: { name: 'boom', scopes: [], tokenGeneratorId: 'exploding' } }, { token: people.alice });
    });
    expect(response?.errors?.map((error) => error.message)).toEqual(['Unexpected error.']);
    expect(JSON.stringify(response?.body)).not.toContain('entropy');
    const errors = parsed.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain('the entropy source is gone');
  });
});
