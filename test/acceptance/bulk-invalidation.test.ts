/**
 * invalidateTokens over many thousand tokens (SPEC "invalidateTokens";
 * issue: bulk work in bulk, other requests answered meanwhile): every token
 * across the chunk boundaries is revoked with its one REVOKE entry, and a
 * request sent while the work runs is answered before it ends. On SQLite the
 * driver answers synchronously, so this fails unless the work gives the event
 * loop a turn between its chunks. Real server over HTTP, on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, expectTypename, invalidateTokens, VIEWER, type Cast } from '../support/operations.ts';

/** More than ten chunks of the domain's thousand roots. */
const TOKENS = 10_500;
const OWNER = 'bulk-owner';

describe.each(engines())('bulk invalidation on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    people = await cast(server);
    // Rows written directly: minting ten thousand tokens over HTTP would only slow the test down.
    // In slices with a timer between them: on SQLite each createMany holds the event loop, and one
    // long hold lets the server time out its idle keep-alive connections under the client's feet.
    const createdAt = server.clock.now();
    for (let start = 0; start < TOKENS; start += 1000) {
      await server.tessera.db.token.createMany({
        data: Array.from({ length: Math.min(1000, TOKENS - start) }, (_, offset) => {
          const index = start + offset;
          return {
            key: `bulk${String(index).padStart(18, '0')}`,
            secretHash: randomBytes(32).toString('hex'),
            generatorId: 'vendor_checksum',
            username: OWNER,
            tokenType: 'user' as const,
            name: `bulk-${index}`,
            activeName: `bulk-${index}`,
            scopes: ['read:all'],
            policy: {},
            metadata: {},
            createdAt,
            lastUpdatedAt: createdAt,
          };
        }),
      });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }, 120_000);
  afterAll(async () => server?.close());

  it('revokes every token with one REVOKE entry each, and answers other requests while it runs', async () => {
    const finished: string[] = [];
    let viewer: Promise<void> | null = null;
    // Once the first chunk's revocation has been sent, another client asks who it is.
    server.onStatement((sql) => {
      if (viewer === null && /^\s*UPDATE "tokens" SET "valid"/.test(sql)) {
        viewer = server.request(VIEWER, {}, { token: people.alice }).then((response) => {
          expect(expectNoErrors(response).viewer.username).toBe('alice');
          finished.push('viewer');
        });
      }
    });

    const result = await invalidateTokens(server, BOOTSTRAP_TOKEN, { usernames: [OWNER] });
    finished.push('invalidation');
    await viewer;

    const payload = expectTypename(result, 'InvalidateTokensPayload');
    expect(payload.count).toBe(TOKENS);
    // The answer names only the first 100: it does not grow with the tokens revoked.
    expect(payload.keys).toHaveLength(100);
    expect(finished).toEqual(['viewer', 'invalidation']);
    const db = server.tessera.db;
    expect(await db.token.count({ where: { username: OWNER, valid: true } })).toBe(0);
    const entries = await db.tokenChangeHistoryEntry.groupBy({ by: ['token'], where: { username: OWNER, action: 'revoke' }, _count: { _all: true } });
    expect(entries).toHaveLength(TOKENS);
    expect(entries.every((entry) => entry._count._all === 1)).toBe(true);
  }, 120_000);
});
