/**
 * Logs are structured JSON, and a token string never appears in one: not when
 * it is minted, used, refused, or sent where it does not belong, even at the
 * most verbose level.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, mint, startServer, type TestServer } from '../support/harness.ts';
import { revoke } from '../support/generation.ts';

describe.each(engines())('logging on %s', (engine) => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    server = await startServer(engine, { logger: pino({ level: 'trace' }, sink) });
  });
  afterAll(async () => server?.close());

  it('writes every line as JSON and none with a token string in it', async () => {
    const minted = await mint(server, BOOTSTRAP_TOKEN, { username: 'lena', name: 'laptop', scopes: ['user:token', 'read:all'] });
    const legacy = await mint(server, BOOTSTRAP_TOKEN, { username: 'lena', name: 'old', tokenGeneratorId: 'legacy_sha1', scopes: ['read:all'] });
    const secrets = [BOOTSTRAP_TOKEN, minted.secret, legacy.secret];

    expect((await server.graphql(minted.secret, '{ viewer { username } }')).status).toBe(200);
    expect((await server.graphql(legacy.secret, '{ viewer { username } }')).status).toBe(200);
    // A token pasted where a name goes, and into a query that does not parse.
    await server.graphql(minted.secret, 'query($name: String!) { token(key: $name) { key } }', { name: minted.secret });
    await server.graphql(minted.secret, `{ token(key: "${minted.secret}") { key `);
    // Refusals: a typo, then the real token once revoked.
    const typo = minted.secret.slice(0, -1) + (minted.secret.endsWith('x') ? 'y' : 'x');
    expect((await server.graphql(typo, '{ viewer { username } }')).status).toBe(401);
    await revoke(server, BOOTSTRAP_TOKEN, minted.token.key);
    expect((await server.graphql(minted.secret, '{ viewer { username } }')).status).toBe(401);

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
});
