/**
 * invalidateTokens and revokeToken answer in a size that does not grow with
 * the number of tokens they revoke: `count` is the total, `tokens` and the
 * deprecated `keys` hold at most the first 100 (SPEC "Limits and bad input":
 * every answer is bounded). Every token is still revoked, with its entry.
 * Real server over HTTP, on every engine.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { expectNoErrors, expectTypename, mint } from '../support/operations.ts';

const REPORTED = 100;

const INVALIDATE_BOUNDED = graphql(`
  mutation InvalidateBounded($input: InvalidateTokensInput!) {
    invalidateTokens(input: $input) {
      __typename
      ... on InvalidateTokensPayload { count keys tokens { key valid invalidReason } }
      ... on Error { code message }
    }
  }
`);

const REVOKE_BOUNDED = graphql(`
  mutation RevokeBounded($input: RevokeTokenInput!) {
    revokeToken(input: $input) {
      __typename
      ... on InvalidateTokensPayload { count keys tokens { key valid invalidReason parentKey } }
      ... on Error { code message }
    }
  }
`);

describe.each(engines())('bounded revocation payloads on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(async () => server?.close());

  /** `count` valid tokens of `username` written straight to the database (minting them over HTTP would only be slower). */
  async function seed(username: string, count: number, parentKey: string | null = null): Promise<string[]> {
    const createdAt = server.clock.now();
    const rows = Array.from({ length: count }, (_, index) => ({
      key: `${username.slice(0, 8)}${String(index).padStart(14, '0')}`,
      secretHash: randomBytes(32).toString('hex'),
      generatorId: 'vendor_checksum',
      username,
      tokenType: parentKey ? ('notebook' as const) : ('user' as const),
      name: parentKey ? null : `seeded-${index}`,
      activeName: parentKey ? null : `seeded-${index}`,
      scopes: ['read:all'],
      parentKey,
      policy: {},
      metadata: {},
      createdAt,
      lastUpdatedAt: createdAt,
    }));
    await server.tessera.db.token.createMany({ data: rows });
    return rows.map((row) => row.key);
  }

  async function revokeEntries(keys: readonly string[]): Promise<number> {
    return server.tessera.db.tokenChangeHistoryEntry.count({ where: { token: { in: [...keys] }, action: 'revoke' } });
  }

  it('invalidating 250 tokens counts 250 and names the first 100, as tokens and as keys', async () => {
    const seeded = await seed('many-owner', 250);
    const response = await server.request(INVALIDATE_BOUNDED, { input: { usernames: ['many-owner'], reason: 'bulk' } }, { token: BOOTSTRAP_TOKEN });
    const payload = expectTypename(expectNoErrors(response).invalidateTokens, 'InvalidateTokensPayload');

    expect(payload.count).toBe(250);
    expect(payload.tokens).toHaveLength(REPORTED);
    expect(payload.keys).toHaveLength(REPORTED);
    // The same first tokens both ways, each once, each one of those invalidated, as they now are.
    expect(payload.tokens.map((token) => token.key)).toEqual(payload.keys);
    expect(new Set(payload.keys).size).toBe(REPORTED);
    for (const key of payload.keys) expect(seeded).toContain(key);
    for (const token of payload.tokens) expect(token).toMatchObject({ valid: false, invalidReason: 'bulk' });

    // Every token was revoked, not only those named, each with its one entry.
    const db = server.tessera.db;
    expect(await db.token.count({ where: { username: 'many-owner', valid: true } })).toBe(0);
    expect(await revokeEntries(seeded)).toBe(250);
  });

  it('revoking a token with 150 children counts 151 and names the first 100', async () => {
    const owner = await mint(server, BOOTSTRAP_TOKEN, { username: 'tree-owner', name: 'root', scopes: ['read:all', 'user:token'] });
    const children = await seed('tree-owner', 150, owner.token.key);
    const tree = [owner.token.key, ...children];

    const response = await server.request(REVOKE_BOUNDED, { input: { key: owner.token.key, reason: 'tree' } }, { token: BOOTSTRAP_TOKEN });
    const payload = expectTypename(expectNoErrors(response).revokeToken, 'InvalidateTokensPayload');

    expect(payload.count).toBe(151);
    expect(payload.tokens).toHaveLength(REPORTED);
    expect(payload.tokens.map((token) => token.key)).toEqual(payload.keys);
    expect(new Set(payload.keys).size).toBe(REPORTED);
    for (const key of payload.keys) expect(tree).toContain(key);
    for (const token of payload.tokens) expect(token).toMatchObject({ valid: false, invalidReason: 'tree' });

    expect(await server.tessera.db.token.count({ where: { key: { in: tree }, valid: true } })).toBe(0);
    expect(await revokeEntries(tree)).toBe(151);
  });

  it('a revocation of fewer than 100 tokens names them all', async () => {
    const seeded = await seed('few-owner', 7);
    const response = await server.request(INVALIDATE_BOUNDED, { input: { usernames: ['few-owner'] } }, { token: BOOTSTRAP_TOKEN });
    const payload = expectTypename(expectNoErrors(response).invalidateTokens, 'InvalidateTokensPayload');
    expect(payload.count).toBe(7);
    expect([...payload.keys].sort()).toEqual([...seeded].sort());
    expect(payload.tokens.map((token) => token.key)).toEqual(payload.keys);
  });
});
