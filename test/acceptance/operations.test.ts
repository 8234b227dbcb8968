/**
 * What the people who run Tessera see of it (SPEC "Health, metrics and
 * notifications"): the probes a load balancer asks (/health, /ready), the
 * Prometheus metrics behind a token (/metrics), and the request log: one line
 * per request, tied to the client by its X-Request-Id, never with a token in it.
 */
import { randomBytes } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sqlitePath } from '../../src/db/client.ts';
import { pendingOf } from '../../src/http/probes.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  EDIT,
  expectNoErrors,
  GENERATE,
  INTROSPECT_PATH,
  INVALIDATE,
  mint,
  oauthPost,
  revoke,
  TOKEN_CHANGES,
  VIEWER,
  type Cast,
} from '../support/operations.ts';
import { type Relay, type ServerBehindRelay, startServerBehindRelay } from '../support/relay.ts';
import { subscribeSse } from '../support/sse.ts';

interface LogLine {
  msg?: string;
  reqId?: string;
  [key: string]: unknown;
}

/** A pino logger at trace level whose lines the test reads. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), lines, parsed: () => lines.map((line) => JSON.parse(line) as LogLine) };
}

const baseOf = (server: TestServer) => server.url.replace(/\/graphql$/, '');
const get = (server: TestServer, path: string, headers: Record<string, string> = {}) => fetch(`${baseOf(server)}${path}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** How long /ready reuses a verdict (probes.ts READY_REUSE_MS), and a little more. */
const READY_REUSE_WAIT_MS = 1100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value of one series in Prometheus' text format (labels as the exposition writes them), or undefined. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const entries = Object.entries(labels);
  const series = entries.length === 0 ? name : `${name}{${entries.map(([key, value]) => `${key}="${value}"`).join(',')}}`;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A gafaelfawr-format token string that no one issued: well formed, unknown. */
const unknownToken = () => `gt-${randomBytes(16).toString('base64url')}.${randomBytes(16).toString('base64url')}`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.each(engines())('operations on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  let scraper: string;
  const log = capturingLogger();
  const statements: string[] = [];

  beforeAll(async () => {
    // Behind one trusted proxy (the harness's TESSERA_TRUST_PROXY=1).
    server = await startServer(engine, { logger: log.logger, queryEvents: true });
    server.onStatement((sql) => statements.push(sql));
    people = await cast(server);
    scraper = (await mint(server, BOOTSTRAP_TOKEN, { username: 'prometheus', name: 'scrape', scopes: ['metrics:read'] })).secret;
  });
  afterAll(async () => server?.close());

  const scrape = async (token = scraper) => {
    const response = await get(server, '/metrics', bearer(token));
    expect(response.status).toBe(200);
    return response.text();
  };

  describe('probes', () => {
    it('GET /health answers 200 with an empty body, without a token and without a database statement', async () => {
      const before = statements.length;
      const response = await get(server, '/health');
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(statements.slice(before)).toEqual([]);
    });

    it('GET /ready answers 200 while the database answers and every migration is applied, and says nothing more', async () => {
      const response = await get(server, '/ready');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ready' });
    });

    it('GET /ready answers 503 "migrations pending" while a committed migration is not applied, and 200 once it is', async () => {
      const [latest] = await server.tessera.db.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`;
      const name = latest?.migration_name ?? '';
      expect(name).not.toBe('');
      // As if the database were restored from before that migration: the row says it was rolled back.
      await server.tessera.db.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = finished_at WHERE migration_name = ${name}`;
      try {
        await sleep(READY_REUSE_WAIT_MS);
        const pending = await get(server, '/ready');
        expect(pending.status).toBe(503);
        expect(await pending.json()).toEqual({ status: 'unavailable', reason: 'migrations pending' });
      } finally {
        await server.tessera.db.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = ${name}`;
      }
      await sleep(READY_REUSE_WAIT_MS);
      expect((await get(server, '/ready')).status).toBe(200);
    });

    it('a build with one more migration than the database records has it pending', () => {
      expect(pendingOf(['a', 'b', 'c'], ['a', 'b'])).toEqual(['c']);
      expect(pendingOf(['a', 'b'], ['a', 'b', 'newer'])).toEqual([]);
    });
  });

  describe('GET /metrics', () => {
    it('needs a token: 401 without one, 403 with one holding neither metrics:read nor admin:token, 200 with either', async () => {
      const anonymous = await get(server, '/metrics');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await anonymous.text()).not.toContain('tessera_');

      const denied = await get(server, '/metrics', bearer(people.alice));
      expect(denied.status).toBe(403);
      const deniedBody = await denied.text();
      expect(JSON.parse(deniedBody)).toMatchObject({ errors: [{ extensions: { code: 'PERMISSION_DENIED' } }] });
      expect(deniedBody).not.toContain('tessera_');

      const allowed = await get(server, '/metrics', bearer(scraper));
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await allowed.text();
      for (const name of ['tessera_authentications_total', 'tessera_token_changes_total', 'tessera_feed_streams', 'tessera_webhook_deliveries_total']) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toContain('# TYPE tessera_sweep_duration_seconds histogram');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect((await get(server, '/metrics', bearer(people.admin))).status).toBe(200);
    });

    it('metrics:read opens nothing else: the OAuth introspection endpoint refuses it', async () => {
      const introspected = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: scraper });
      expect(introspected.status).toBe(403);
      expect(introspected.body).toMatchObject({ error: 'insufficient_scope' });
    });

    it('counts authentications by outcome', async () => {
      const before = await scrape();
      expect((await server.request(VIEWER, {}, { token: unknownToken() })).status).toBe(401);
      expect((await server.request(VIEWER, {}, { token: 'not-a-token' })).status).toBe(401);
      expect((await server.request(VIEWER)).status).toBe(401);
      const after = await scrape();
      for (const outcome of ['unknown', 'malformed', 'missing']) {
        expect(metric(after, 'tessera_authentications_total', { outcome }), outcome).toBe(
          (metric(before, 'tessera_authentications_total', { outcome }) ?? 0) + 1,
        );
      }
      // The scrape itself authenticated.
      expect(metric(after, 'tessera_authentications_total', { outcome: 'ok' })).toBeGreaterThan(
        metric(before, 'tessera_authentications_total', { outcome: 'ok' }) ?? 0,
      );
    });

    it('counts the history entries this process committed, by action', async () => {
      const changes = (text: string, action: string) => metric(text, 'tessera_token_changes_total', { action }) ?? 0;
      const start = await scrape();
      const parent = await mint(server, people.alice, { name: 'counted', scopes: ['read:all'] });
      await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
      const created = await scrape();
      expect(changes(created, 'create') - changes(start, 'create')).toBe(2);

      expectNoErrors(await server.request(EDIT, { input: { key: parent.token.key, note: 'counted' } }, { token: people.alice }));
      // The parent and its child: two REVOKE entries, written by one set-based statement.
      expect(await revoke(server, people.alice, parent.token.key)).toHaveLength(2);
      const end = await scrape();
      expect(changes(end, 'edit') - changes(created, 'edit')).toBe(1);
      expect(changes(end, 'revoke') - changes(created, 'revoke')).toBe(2);
      expect(changes(end, 'create')).toBe(changes(created, 'create'));
    });

    it('counts GraphQL operations by name, and open subscription streams', async () => {
      const before = await scrape();
      expectNoErrors(await server.request(VIEWER, {}, { token: people.bob }));
      const after = await scrape();
      const viewers = (text: string) => metric(text, 'tessera_graphql_requests_total', { operationName: 'Viewer', operationType: 'query' }) ?? 0;
      expect(viewers(after) - viewers(before)).toBe(1);

      expect(metric(after, 'tessera_feed_streams')).toBe(0);
      const stream = await subscribeSse(server.url, TOKEN_CHANGES, {}, people.admin);
      try {
        expect(stream.status).toBe(200);
        await until('the stream counted', async () => (metric(await scrape(), 'tessera_feed_streams') === 1 ? true : undefined));
      } finally {
        stream.close();
      }
      await until('the stream no longer counted', async () => (metric(await scrape(), 'tessera_feed_streams') === 0 ? true : undefined));
    });

    it('times each operation, and counts refused documents by phase, again when the same document comes again', async () => {
      const post = async (query: string) => {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${people.bob}` },
          body: JSON.stringify({ query }),
        });
        return (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      };
      const timed = (text: string) => metric(text, 'tessera_graphql_request_duration_seconds_count', { operationName: 'Viewer', operationType: 'query' }) ?? 0;
      const refused = (text: string, labels: Record<string, string>) => metric(text, 'tessera_graphql_errors_total', labels) ?? 0;
      const unparsed = { operationName: 'Anonymous', operationType: 'unknown', phase: 'parse' };
      const invalid = { operationName: 'Misspelled', operationType: 'query', phase: 'validate' };
      const before = await scrape();
      expectNoErrors(await server.request(VIEWER, {}, { token: people.bob }));
      expect((await post('{ viewer {')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      // The second time, the validation result comes from the cache (yoga.ts): still refused, still counted.
      for (let time = 0; time < 2; time += 1) {
        expect((await post('query Misspelled { viewer { usernam } }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      }
      const after = await scrape();
      expect(timed(after) - timed(before)).toBe(1);
      expect(refused(after, unparsed) - refused(before, unparsed)).toBe(1);
      expect(refused(after, invalid) - refused(before, invalid)).toBe(2);
    });
  });

  describe('the request log', () => {
    const linesOf = (reqId: string | null) => log.parsed().filter((line) => line.reqId === reqId);

    it('writes one line per request with its id, which the response echoes', async () => {
      const response = await server.request(VIEWER, {}, { token: people.bob });
      const reqId = response.headers.get('x-request-id');
      expect(reqId).toMatch(UUID);
      const lines = linesOf(reqId);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 30, msg: 'request', method: 'POST', path: '/graphql', status: 200, actor: 'bob', address: '127.0.0.1' });
      expect(lines[0]).toMatchObject({ operation: 'Viewer', operationType: 'query' });
      expect(typeof lines[0]?.ms).toBe('number');
    });

    it('takes the id a trusted proxy sends', async () => {
      const response = await server.request(VIEWER, {}, { token: people.bob, headers: { 'x-request-id': 'edge-7f3a9c', 'x-forwarded-for': '198.51.100.7' } });
      expect(response.headers.get('x-request-id')).toBe('edge-7f3a9c');
      expect(linesOf('edge-7f3a9c')).toEqual([expect.objectContaining({ actor: 'bob', address: '198.51.100.7', status: 200 })]);
    });

    it('says what a mutation changed, and never the secret it minted', async () => {
      const generated = await server.request(GENERATE, { input: { name: 'logged', scopes: ['read:all'] } }, { token: people.alice });
      const payload = expectNoErrors(generated).generateToken;
      if (payload.__typename !== 'GenerateTokenPayload') throw new Error(payload.__typename);
      const [line] = linesOf(generated.headers.get('x-request-id'));
      expect(line).toMatchObject({ actor: 'alice', operation: 'Generate', operationType: 'mutation', changes: { created: payload.token.key } });

      const invalidated = await server.request(INVALIDATE, { input: { filter: { keys: [payload.token.key] }, reason: 'logged' } }, { token: people.alice });
      expect(expectNoErrors(invalidated).invalidateTokens).toMatchObject({ count: 1 });
      expect(linesOf(invalidated.headers.get('x-request-id'))).toEqual([expect.objectContaining({ operation: 'Invalidate', changes: { invalidated: 1 } })]);

      for (const line of log.lines) expect(line).not.toContain(payload.secret.slice(0, 24));
    });

    it('writes the same line for the OAuth endpoints and the probes', async () => {
      const introspected = await oauthPost(server, INTROSPECT_PATH, { token: people.bob }, { token: people.admin });
      expect(introspected.status).toBe(200);
      expect(linesOf(introspected.headers.get('x-request-id'))).toEqual([
        expect.objectContaining({ msg: 'request', method: 'POST', path: '/oauth/introspect', status: 200, actor: 'admin' }),
      ]);
      const health = await get(server, '/health?verbose=1');
      expect(linesOf(health.headers.get('x-request-id'))).toEqual([expect.objectContaining({ path: '/health', status: 200 })]);
    });

    it('logs a refused credential by its reason, and no token string in any line', async () => {
      const presented = unknownToken();
      const response = await server.request(VIEWER, {}, { token: presented });
      expect(response.status).toBe(401);
      expect(linesOf(response.headers.get('x-request-id'))).toEqual([
        expect.objectContaining({ msg: 'authentication failed', failure: 'unknown', status: 401, path: '/graphql' }),
      ]);
      for (const secret of [BOOTSTRAP_TOKEN, people.admin, people.alice, people.bob, scraper, presented]) {
        expect(log.lines.filter((line) => line.includes(secret) || line.includes(secret.slice(0, 24)))).toEqual([]);
      }
    });
  });

  describe('without a trusted proxy', () => {
    let direct: TestServer;
    let closed = false;
    const directLog = capturingLogger();

    beforeAll(async () => {
      direct = await startServer(engine, { logger: directLog.logger, env: { TESSERA_TRUST_PROXY: '0' } });
    });
    afterAll(async () => {
      if (!closed) await direct?.close();
    });

    it('ignores the X-Request-Id a client sends, and answers with an id of its own', async () => {
      const response = await direct.request(VIEWER, {}, { token: BOOTSTRAP_TOKEN, headers: { 'x-request-id': 'chosen-by-client' } });
      expect(response.status).toBe(200);
      const reqId = response.headers.get('x-request-id');
      expect(reqId).toMatch(UUID);
      expect(directLog.parsed().filter((line) => line.reqId === 'chosen-by-client')).toEqual([]);
      expect(directLog.parsed().filter((line) => line.reqId === reqId)).toEqual([expect.objectContaining({ actor: '<bootstrap>' })]);
    });

    it('summarizes a storm of failed credentials: the first ten lines, then one line with the count', async () => {
      for (let attempt = 0; attempt < 25; attempt += 1) expect((await direct.request(VIEWER, {}, { token: unknownToken() })).status).toBe(401);
      const failures = directLog.parsed().filter((line) => line.msg === 'authentication failed');
      expect(failures).toHaveLength(10);
      // The summaries are written each minute, and when the server closes.
      closed = true;
      await direct.close();
      const summaries = directLog.parsed().filter((line) => line.msg === 'authentication failures summarized');
      expect(summaries).toEqual([expect.objectContaining({ level: 30, address: '127.0.0.1', failures: 25, notLogged: 15 })]);
    });
  });
});

describe.runIf(engines().includes('sqlite'))('/ready on a SQLite database that lost its contents', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('sqlite');
  });
  afterAll(async () => server?.close());

  it('answers 503 "database"', async () => {
    expect((await get(server, '/ready')).status).toBe(200);
    // The file emptied under the running server, as when its volume is lost: nothing can be read from it.
    const path = sqlitePath(server.databaseUrl);
    truncateSync(path, 0);
    truncateSync(`${path}-wal`, 0);
    await sleep(READY_REUSE_WAIT_MS);
    const response = await get(server, '/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'database' });
    expect((await get(server, '/health')).status).toBe(200);
  });
});

describe.runIf(engines().includes('postgresql'))('/ready on a PostgreSQL that is gone', () => {
  const baseUrl = inject('postgresUrl') ?? '';
  const name = `tessera_t_ready_${process.pid}`;
  let behind: ServerBehindRelay;
  let relay: Relay;
  let server: TestServer;

  beforeAll(async () => {
    behind = await startServerBehindRelay(baseUrl, name);
    ({ relay, server } = behind);
  });
  afterAll(async () => behind?.close());

  it('answers 503 "database" while it is gone, within the probe timeout, and 200 once it is back', async () => {
    expect((await get(server, '/ready')).status).toBe(200);
    await relay.cut();
    await sleep(READY_REUSE_WAIT_MS);
    const started = Date.now();
    const response = await get(server, '/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'database' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await get(server, '/health')).status).toBe(200);

    await relay.open();
    await until('ready again', async () => ((await get(server, '/ready')).status === 200 ? true : undefined), 10_000);
  });
});
