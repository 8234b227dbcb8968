/**
 * RFC 7009 revocation by value at POST /oauth/revoke: the presented token and
 * its descendants are revoked when the caller owns it (with user:token) or is
 * an admin, with a REVOKE entry each. An active token the caller may not
 * revoke is refused with 400 unauthorized_client (§2.1); a string that is no
 * active token is answered 200 with an empty body, whoever asks, so that
 * nothing is learnt about strings that are not live tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorChecksum } from '../../src/domain/generators/vendor-checksum.ts';
import { engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, historyEntries, lookup, mint, oauthPost, REVOKE_PATH, rowCounts, VIEWER, type Cast, type Minted } from '../support/operations.ts';

describe.each(engines())('revocation by value on %s', (engine) => {
  let server: TestServer;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterAll(async () => server?.close());

  /** POSTs to /oauth/revoke as `caller` and insists on RFC 7009's answer: 200 and an empty body. */
  async function revokeByValue(token: string, caller: string) {
    const response = await oauthPost(server, REVOKE_PATH, { token }, { token: caller });
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
  }

  async function authenticates(secret: string): Promise<boolean> {
    const { status } = await server.request(VIEWER, {}, { token: secret });
    expect([200, 401]).toContain(status);
    return status === 200;
  }

  /** A USER token of alice's with a NOTEBOOK child and an INTERNAL grandchild. */
  async function family(name: string): Promise<Minted[]> {
    const parent = await mint(server, people.alice, { name, scopes: ['read:all'] });
    const child = await mint(server, people.alice, { tokenType: 'NOTEBOOK', parent: parent.token.key, scopes: ['read:all'] });
    const grandchild = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: child.token.key, service: 'portal', scopes: ['read:all'] });
    return [parent, child, grandchild];
  }

  /** The REVOKE entries of these tokens, as [token key, actor] pairs. */
  async function revocations(tokens: Minted[]): Promise<[string, string][]> {
    const keys = new Set(tokens.map((token) => token.token.key));
    const entries = await historyEntries(server, { action: 'REVOKE' });
    return entries.filter((entry) => keys.has(entry.token)).map((entry): [string, string] => [entry.token, entry.actor]);
  }

  it.each([
    ['its owner', 'alice'],
    ['an admin', 'admin'],
  ])('revokes the token and its descendants when the caller is %s, with a REVOKE entry each', async (_who, actorName) => {
    const tokens = await family(`revoked-by-${actorName}`);
    expect(await Promise.all(tokens.map((token) => authenticates(token.secret)))).toEqual([true, true, true]);

    await revokeByValue(tokens[0]?.secret ?? '', actorName === 'alice' ? people.alice : people.admin);

    expect(await Promise.all(tokens.map((token) => authenticates(token.secret)))).toEqual([false, false, false]);
    for (const token of tokens) expect((await lookup(server, token.token.key))?.valid).toBe(false);
    expect((await revocations(tokens)).sort()).toEqual(tokens.map((token): [string, string] => [token.token.key, actorName]).sort());
  });

  it('revokes a child presented by value without touching its parent', async () => {
    const [parent, child, grandchild] = await family('child-by-value');
    await revokeByValue(child?.secret ?? '', people.alice);
    expect(await authenticates(parent?.secret ?? '')).toBe(true);
    expect(await authenticates(child?.secret ?? '')).toBe(false);
    expect(await authenticates(grandchild?.secret ?? '')).toBe(false);
  });

  it('answers 200 with an empty body and revokes nothing for an unknown or malformed token', async () => {
    const entropy = 'Q'.repeat(255 - 'tsr_'.length - 6);
    const before = await rowCounts(server);
    const revokesBefore = (await historyEntries(server, { action: 'REVOKE' })).length;
    for (const token of [`tsr_${entropy}${vendorChecksum(entropy)}`, 'f'.repeat(40), 'garbage']) {
      await revokeByValue(token, people.alice);
      await revokeByValue(token, people.admin);
    }
    expect(await rowCounts(server)).toEqual(before);
    expect((await historyEntries(server, { action: 'REVOKE' })).length).toBe(revokesBefore);
  });

  it('answers 200 with an empty body for an already revoked token, and writes no second entry', async () => {
    const tokens = await family('revoked-twice');
    await revokeByValue(tokens[0]?.secret ?? '', people.alice);
    const entries = await revocations(tokens);
    expect(entries).toHaveLength(3);
    const before = await rowCounts(server);

    await revokeByValue(tokens[0]?.secret ?? '', people.alice);
    await revokeByValue(tokens[0]?.secret ?? '', people.admin);
    await revokeByValue(tokens[1]?.secret ?? '', people.admin);

    expect(await rowCounts(server)).toEqual(before);
    expect(await revocations(tokens)).toEqual(entries);
  });

  it("refuses someone else's active token with 400 unauthorized_client, and revokes nothing, when the caller is not an admin", async () => {
    const tokens = await family('not-bobs');
    const withoutUserScope = await mint(server, people.alice, { name: 'no-user-scope', scopes: ['read:all'] });
    const before = await rowCounts(server);

    // Its owner's too, without user:token.
    for (const caller of [people.bob, withoutUserScope.secret]) {
      for (const token of tokens) {
        const response = await oauthPost(server, REVOKE_PATH, { token: token.secret }, { token: caller });
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ error: 'unauthorized_client', error_description: expect.any(String) });
        expect(response.headers.get('cache-control')).toMatch(/\bno-store\b/);
      }
    }

    expect(await rowCounts(server)).toEqual(before);
    expect(await revocations(tokens)).toEqual([]);
    expect(await Promise.all(tokens.map((token) => authenticates(token.secret)))).toEqual([true, true, true]);
  });

  it("answers 200 with an empty body for someone else's token that is no longer active, telling nothing about it", async () => {
    const tokens = await family('bobs-revoked');
    await revokeByValue(tokens[0]?.secret ?? '', people.alice);
    const before = await rowCounts(server);
    for (const token of tokens) await revokeByValue(token.secret, people.bob);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('answers a missing token field with 400 invalid_request', async () => {
    const response = await oauthPost(server, REVOKE_PATH, { token_type_hint: 'access_token' }, { token: people.alice });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a caller without a token, or with a wrong one, with 401 and revokes nothing', async () => {
    const target = await mint(server, people.alice, { name: 'bad-callers', scopes: ['read:all'] });
    const entropy = 'R'.repeat(255 - 'tsr_'.length - 6);
    for (const caller of [null, `tsr_${entropy}${vendorChecksum(entropy)}`, 'garbage']) {
      const response = await oauthPost(server, REVOKE_PATH, { token: target.secret }, { token: caller });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b/);
    }
    expect(await authenticates(target.secret)).toBe(true);
  });
});
