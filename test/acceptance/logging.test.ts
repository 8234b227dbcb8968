/**
 * Logs are structured JSON, and a token string never appears in one: not when
 * it is minted, used, refused, or sent where it does not belong, even at the
 * most verbose level.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { mint, revoke, TOKEN, VIEWER } from '../support/operations.ts';

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
});
