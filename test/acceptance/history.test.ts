/**
 * The token change history over GraphQL (SPEC "Token change history entry",
 * `tokenHistory`, `reduced`): field semantics, recorded addresses, CIDR
 * filters, keyset pagination in both directions, filters, errors and node().
 * Real server over HTTP, real database, on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type GraphQLResponse, type TestServer } from '../support/harness.ts';
import {
  cast,
  daysFromNow,
  expectNoErrors,
  expectTypename,
  HISTORY,
  historyEntries,
  invalidateTokens,
  mint,
  revokeToken,
  type Cast,
  type HistoryEntry,
  type HistoryPage,
  type HistoryVariables,
  type TokenChange,
  type TokenHistoryFilter,
  epochSeconds,
} from '../support/operations.ts';

const HISTORY_NODE = graphql(`
  query HistoryNode($id: ID!) {
    node(id: $id) { __typename id ...HistoryEntry }
  }
`);

/** The address the (trusted) proxy says the request came from. */
const from = (address: string) => ({ 'x-forwarded-for': address });

/** The database id inside a relay global id (Pothos: base64 of "Type:id"); only used to check the documented tie-break order. */
function rowId(globalId: string): number {
  const [typename, id] = Buffer.from(globalId, 'base64').toString('utf8').split(':');
  expect(typename).toBe('TokenChangeHistoryEntry');
  return Number(id);
}

function expectCode(response: GraphQLResponse<{ tokenHistory: HistoryPage }>, code: string) {
  expect(response.errors, `expected a GraphQL error ${code}, got ${JSON.stringify(response.data)}`).toBeDefined();
  expect(response.errors?.map((error) => error.extensions?.code)).toContain(code);
  expect(response.data?.tokenHistory ?? null).toBeNull();
}

describe.each(engines())('token change history on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  /** Keys of the tokens the world below was built from, by a name of our own. */
  const keys: Record<string, string> = {};

  async function historyResponse(variables: HistoryVariables, token = BOOTSTRAP_TOKEN) {
    return server.request(HISTORY, variables, { token });
  }

  async function history(variables: HistoryVariables, token = BOOTSTRAP_TOKEN): Promise<HistoryPage> {
    return expectNoErrors(await historyResponse(variables, token)).tokenHistory;
  }

  /** Every matching entry, in one page. */
  const all = (filter?: TokenHistoryFilter, token = BOOTSTRAP_TOKEN) => historyEntries(server, filter, token);

  async function entriesOf(key: string, action?: TokenChange): Promise<HistoryEntry[]> {
    return (await all({ key, ...(action ? { action } : {}) })).filter((entry) => entry.token === key);
  }

  /**
   * Every page of a listing, forward (first/after, from the newest) or backward
   * (last/before, from the oldest), checking each page's pageInfo on the way;
   * the entries come back newest first either way.
   */
  async function walk(direction: 'forward' | 'backward', filter: TokenHistoryFilter | undefined, size: number) {
    const forward = direction === 'forward';
    const collected: HistoryEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    let totalCount = -1;
    for (;;) {
      const page = await history(forward ? { filter, first: size, after: cursor } : { filter, last: size, before: cursor });
      pages += 1;
      if (pages > 500) throw new Error('pagination does not end');
      totalCount = page.totalCount;
      const nodes = page.edges.map((edge) => edge.node);
      // Nothing lies beyond the end a walk starts from.
      if (pages === 1) expect(forward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage).toBe(false);
      if (forward) collected.push(...nodes);
      else collected.unshift(...nodes);
      if (page.edges.length > 0) {
        expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor);
      }
      if (!(forward ? page.pageInfo.hasNextPage : page.pageInfo.hasPreviousPage)) {
        // The last page is the one that runs out, not an extra empty one.
        if (collected.length > 0) expect(page.edges.length).toBeGreaterThan(0);
        break;
      }
      expect(page.edges).toHaveLength(size);
      cursor = (forward ? page.pageInfo.endCursor : page.pageInfo.startCursor) ?? undefined;
      expect(cursor).toBeTruthy();
    }
    return { entries: collected, totalCount };
  }

  function expectNewestFirst(entries: HistoryEntry[]) {
    const ids = entries.map((entry) => rowId(entry.id));
    expect(new Set(ids).size, 'duplicate entries').toBe(ids.length);
    for (let index = 1; index < entries.length; index += 1) {
      const newer = entries[index - 1]!;
      const older = entries[index]!;
      const newerTime = Date.parse(newer.eventTime);
      const olderTime = Date.parse(older.eventTime);
      expect(newerTime, `entry ${index - 1} comes before the older entry ${index}`).toBeGreaterThanOrEqual(olderTime);
      if (newerTime === olderTime) expect(rowId(newer.id), `tie on event time broken by id, at ${index}`).toBeGreaterThan(rowId(older.id));
    }
  }

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
    const admin = people.admin;

    // Users who act for themselves, from several addresses.
    const secrets: Record<string, string> = {};
    for (const [username, address] of [
      ['dave', '203.0.113.10'],
      ['erin', '203.0.113.11'],
      ['frank', '2001:db8:ff::1'],
    ] as const) {
      const main = await mint(server, admin, { username, name: 'main', scopes: ['user:token', 'read:all', 'exec:notebook'] }, from(address));
      secrets[username] = main.secret;
      keys[`${username}-main`] = main.token.key;
    }
    const addresses = ['198.51.100.21', '2001:db8::21', '198.51.100.22', '203.0.113.23', '2001:db8:2::24', '198.51.100.25'];
    let next = 0;
    const nextAddress = () => addresses[next++ % addresses.length] as string;
    for (const username of ['dave', 'erin', 'frank']) {
      const secret = secrets[username] as string;
      const ci = await mint(server, secret, { name: 'ci', scopes: ['read:all', 'exec:notebook'], expires: daysFromNow(20, server.clock) }, from(nextAddress()));
      keys[`${username}-ci`] = ci.token.key;
      const notebook = await mint(server, secret, { tokenType: 'NOTEBOOK', parent: ci.token.key, scopes: ['read:all'] }, from(nextAddress()));
      keys[`${username}-notebook`] = notebook.token.key;
      const internal = await mint(
        server,
        secret,
        { tokenType: 'INTERNAL', parent: ci.token.key, service: 'portal', scopes: ['read:all'] },
        from(nextAddress()),
      );
      keys[`${username}-internal`] = internal.token.key;
    }
    keys['bot-service'] = (await mint(server, admin, { username: 'bot-sync', tokenType: 'SERVICE', scopes: ['read:all'] }, from('203.0.113.30'))).token.key;
    keys['dave-session'] = (await mint(server, admin, { username: 'dave', tokenType: 'SESSION', scopes: ['read:all'] }, from('2001:db8::30'))).token.key;
    for (const name of ['a', 'b']) {
      keys[`frank-${name}`] = (await mint(server, secrets.frank as string, { name, scopes: ['read:all'] }, from('2001:db8:ff::2'))).token.key;
    }
    // Revocations: one with descendants (three entries), one by filter, one by an admin.
    const daveRevoke = await revokeToken(server, secrets.dave as string, { key: keys['dave-ci'] as string }, from('198.51.100.40'));
    expectTypename(daveRevoke, 'InvalidateTokensPayload');
    const erinInvalidate = await invalidateTokens(
      server,
      admin,
      { usernames: ['erin'], filter: { tokenTypes: ['NOTEBOOK'] }, reason: 'cleanup' },
      from('2001:db8::40'),
    );
    expect(erinInvalidate).toMatchObject({ __typename: 'InvalidateTokensPayload', count: 1 });
    const frankRevoke = await revokeToken(server, admin, { key: keys['frank-a'] as string }, from('203.0.113.41'));
    expectTypename(frankRevoke, 'InvalidateTokensPayload');

    // Carol's tokens, one per address, for the address tests.
    for (const [name, address] of [
      ['c4a', '198.51.100.7'],
      ['c4b', '198.51.100.200'],
      ['c4c', '203.0.113.5'],
      ['c6a', '2001:db8::5'],
      ['c6b', '2001:db8:1::9'],
      ['c6c', '2001:db9::1'],
      ['cmap', '::ffff:198.51.100.8'],
    ] as const) {
      keys[name] = (await mint(server, admin, { username: 'carol', name, scopes: ['read:all'] }, from(address))).token.key;
    }
  });
  afterAll(async () => server?.close());

  it('records a CREATE of a USER token with expiry, and of its INTERNAL child, field by field and in reduced form', async () => {
    const expires = daysFromNow(30, server.clock);
    const before = server.clock.now().getTime();
    const laptop = await mint(server, people.alice, { name: 'laptop', scopes: ['read:all', 'exec:notebook'], expires }, from('198.51.100.7'));
    const child = await mint(
      server,
      people.alice,
      { tokenType: 'INTERNAL', parent: laptop.token.key, service: 'portal', scopes: ['read:all'] },
      from('2001:db8::5'),
    );
    const after = server.clock.now().getTime();

    const [created] = await entriesOf(laptop.token.key);
    expect(created).toBeDefined();
    const entry = created!;
    const eventTime = Date.parse(entry.eventTime);
    expect(eventTime).toBeGreaterThanOrEqual(before);
    expect(eventTime).toBeLessThanOrEqual(after);
    expect(entry).toMatchObject({
      token: laptop.token.key,
      username: 'alice',
      tokenType: 'USER',
      tokenName: 'laptop',
      parent: null,
      scopes: ['exec:notebook', 'read:all'],
      service: null,
      expires,
      actor: 'alice',
      action: 'CREATE',
      oldTokenName: null,
      oldScopes: null,
      oldExpires: null,
      ipAddress: '198.51.100.7',
      tokenRecord: { key: laptop.token.key },
    });
    expect(entry.reduced).toStrictEqual({
      token: laptop.token.key,
      username: 'alice',
      token_type: 'user',
      token_name: 'laptop',
      scopes: ['exec:notebook', 'read:all'],
      expires: epochSeconds(expires),
      actor: 'alice',
      action: 'create',
      ip_address: '198.51.100.7',
      event_time: epochSeconds(entry.eventTime),
    });

    const childEntries = await entriesOf(child.token.key);
    expect(childEntries).toHaveLength(1);
    const childEntry = childEntries[0]!;
    // A derived token without an expiry of its own expires with its parent.
    expect(childEntry).toMatchObject({
      token: child.token.key,
      username: 'alice',
      tokenType: 'INTERNAL',
      tokenName: null,
      parent: laptop.token.key,
      scopes: ['read:all'],
      service: 'portal',
      expires,
      actor: 'alice',
      action: 'CREATE',
      oldTokenName: null,
      oldScopes: null,
      oldExpires: null,
      ipAddress: '2001:db8::5',
      tokenRecord: { key: child.token.key },
    });
    expect(childEntry.reduced).toStrictEqual({
      token: child.token.key,
      username: 'alice',
      token_type: 'internal',
      parent: laptop.token.key,
      scopes: ['read:all'],
      service: 'portal',
      expires: epochSeconds(expires),
      actor: 'alice',
      action: 'create',
      ip_address: '2001:db8::5',
      event_time: epochSeconds(childEntry.eventTime),
    });
  });

  it('keeps expires in reduced as null for a token that never expires, and drops the null name of a NOTEBOOK token', async () => {
    const desk = await mint(server, people.admin, { username: 'bob', name: 'desk', scopes: ['read:all'] }, from('203.0.113.77'));
    const notebook = await mint(server, people.bob, { tokenType: 'NOTEBOOK', parent: desk.token.key, scopes: [] }, from('198.51.100.77'));
    const [deskEntry] = await entriesOf(desk.token.key);
    expect(deskEntry?.expires).toBeNull();
    expect(deskEntry?.reduced).toStrictEqual({
      token: desk.token.key,
      username: 'bob',
      token_type: 'user',
      token_name: 'desk',
      scopes: ['read:all'],
      expires: null,
      actor: 'admin',
      action: 'create',
      ip_address: '203.0.113.77',
      event_time: epochSeconds(deskEntry?.eventTime ?? ''),
    });
    const [notebookEntry] = await entriesOf(notebook.token.key);
    expect(notebookEntry).toMatchObject({ tokenType: 'NOTEBOOK', tokenName: null, parent: desk.token.key, service: null, scopes: [], expires: null });
    expect(notebookEntry?.reduced).toStrictEqual({
      token: notebook.token.key,
      username: 'bob',
      token_type: 'notebook',
      parent: desk.token.key,
      scopes: [],
      expires: null,
      actor: 'bob',
      action: 'create',
      ip_address: '198.51.100.77',
      event_time: epochSeconds(notebookEntry?.eventTime ?? ''),
    });
  });

  it('records a REVOKE (revokeToken) with the revoker as actor and the revoker’s address, without old_* fields', async () => {
    const expires = daysFromNow(10, server.clock);
    const phone = await mint(server, people.bob, { name: 'phone', scopes: ['read:all'], expires }, from('198.51.100.60'));
    const before = server.clock.now().getTime();
    const revoked = await revokeToken(server, people.admin, { key: phone.token.key, reason: 'lost' }, from('203.0.113.9'));
    const after = server.clock.now().getTime();
    expect(revoked).toEqual({ __typename: 'InvalidateTokensPayload', count: 1, keys: [phone.token.key] });

    const entries = await entriesOf(phone.token.key, 'REVOKE');
    expect(entries).toHaveLength(1);
    const entry = entries[0]!;
    expect(Date.parse(entry.eventTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(entry.eventTime)).toBeLessThanOrEqual(after);
    expect(entry).toMatchObject({
      token: phone.token.key,
      username: 'bob',
      tokenType: 'USER',
      tokenName: 'phone',
      parent: null,
      scopes: ['read:all'],
      service: null,
      expires,
      actor: 'admin',
      action: 'REVOKE',
      oldTokenName: null,
      oldScopes: null,
      oldExpires: null,
      ipAddress: '203.0.113.9',
      tokenRecord: { key: phone.token.key },
    });
    expect(entry.reduced).toStrictEqual({
      token: phone.token.key,
      username: 'bob',
      token_type: 'user',
      token_name: 'phone',
      scopes: ['read:all'],
      expires: epochSeconds(expires),
      actor: 'admin',
      action: 'revoke',
      ip_address: '203.0.113.9',
      event_time: epochSeconds(entry.eventTime),
    });
  });

  it('records a REVOKE (invalidateTokens) for the token and each descendant, from an IPv4-mapped address shown as IPv4', async () => {
    const tablet = await mint(server, people.alice, { name: 'tablet', scopes: ['read:all'] }, from('198.51.100.61'));
    const child = await mint(server, people.alice, { tokenType: 'INTERNAL', parent: tablet.token.key, service: 'svc', scopes: [] }, from('198.51.100.61'));
    const result = expectTypename(
      await invalidateTokens(server, people.alice, { filter: { keys: [tablet.token.key] }, reason: 'done' }, from('::ffff:198.51.100.8')),
      'InvalidateTokensPayload',
    );
    expect(result.count).toBe(2);
    expect([...result.keys].sort()).toEqual([tablet.token.key, child.token.key].sort());

    const revokes = await all({ key: tablet.token.key, action: 'REVOKE' });
    expect(revokes.map((entry) => entry.token).sort()).toEqual([tablet.token.key, child.token.key].sort());
    for (const entry of revokes) {
      expect(entry).toMatchObject({ actor: 'alice', ipAddress: '198.51.100.8', action: 'REVOKE', oldTokenName: null, oldScopes: null, oldExpires: null });
      const isChild = entry.token === child.token.key;
      expect(entry.reduced).toStrictEqual({
        token: entry.token,
        username: 'alice',
        token_type: isChild ? 'internal' : 'user',
        ...(isChild ? { parent: tablet.token.key, service: 'svc' } : { token_name: 'tablet' }),
        scopes: isChild ? [] : ['read:all'],
        expires: null,
        actor: 'alice',
        action: 'revoke',
        ip_address: '198.51.100.8',
        event_time: epochSeconds(entry.eventTime),
      });
    }
  });

  it('records the forwarded address: IPv4, IPv6, and IPv4-mapped IPv6 as IPv4', async () => {
    const recorded = async (name: string) => (await entriesOf(keys[name] as string, 'CREATE'))[0]?.ipAddress;
    expect(await recorded('c4a')).toBe('198.51.100.7');
    expect(await recorded('c6a')).toBe('2001:db8::5');
    expect(await recorded('cmap')).toBe('198.51.100.8');
    expect(await recorded('c6b')).toBe('2001:db8:1::9');
    // Without a forwarded address, the peer's own (the test client on loopback).
    expect((await entriesOf(people.aliceKey, 'CREATE'))[0]?.ipAddress).toBe('127.0.0.1');
  });

  it('filters by exact address and CIDR block, IPv4 and IPv6, the same on every engine', async () => {
    const everything = await all();
    const carol = (ipAddress: string) => all({ username: 'carol', ipAddress });
    const carolKeys = async (ipAddress: string) => (await carol(ipAddress)).map((entry) => entry.token).sort();
    const expected = (...names: string[]) => names.map((name) => keys[name] as string).sort();

    expect(await carolKeys('198.51.100.0/24')).toEqual(expected('c4a', 'c4b', 'cmap'));
    expect(await carolKeys('198.51.100.7')).toEqual(expected('c4a'));
    expect(await carolKeys('198.51.100.8')).toEqual(expected('cmap'));
    expect(await carolKeys('2001:db8::/32')).toEqual(expected('c6a', 'c6b'));
    expect(await carolKeys('2001:db8::5/128')).toEqual(expected('c6a'));
    expect(await carolKeys('2001:0db8:0000:0000:0000:0000:0000:0005')).toEqual(expected('c6a'));
    expect(await carolKeys('203.0.113.0/24')).toEqual(expected('c4c'));
    expect(await carolKeys('0.0.0.0/0')).toEqual(expected('c4a', 'c4b', 'c4c', 'cmap'));
    expect(await carolKeys('::/0')).toEqual(expected('c4a', 'c4b', 'c4c', 'c6a', 'c6b', 'c6c', 'cmap'));

    // Across everyone's history, checked against the recorded addresses themselves.
    const expectFilter = async (ipAddress: string, matches: (address: string) => boolean) => {
      const listed = await all({ ipAddress });
      const wanted = everything.filter((entry) => entry.ipAddress !== null && matches(entry.ipAddress));
      expect(wanted.length, `the data set has entries for ${ipAddress}`).toBeGreaterThan(0);
      expect(
        listed.map((entry) => entry.id),
        `ipAddress: ${ipAddress}`,
      ).toEqual(wanted.map((entry) => entry.id));
    };
    await expectFilter('198.51.100.0/24', (address) => address.startsWith('198.51.100.'));
    await expectFilter('198.51.100.7', (address) => address === '198.51.100.7');
    await expectFilter('2001:db8::/32', (address) => address.startsWith('2001:db8:'));
    await expectFilter('2001:db8::5/128', (address) => address === '2001:db8::5');
    await expectFilter('0.0.0.0/0', (address) => !address.includes(':'));
    await expectFilter('203.0.113.0/24', (address) => address.startsWith('203.0.113.'));
    expect(everything.some((entry) => entry.ipAddress?.includes(':'))).toBe(true);

    for (const bad of ['300.1.1.1', '10.0.0.0/33', 'nonsense', '2001:db8::/129', '198.51.100.7/']) {
      expectCode(await historyResponse({ filter: { ipAddress: bad }, first: 10 }), 'BAD_IP_FILTER');
    }
  });

  it('refuses IPv4 text that is not dotted-quad decimal instead of reading it as another address', async () => {
    // inet_aton leftovers: "198.51.7" is 198.51.0.7, "0306.51.100.7" octal, "0xc6.51.100.7" hex. An audit filter
    // must not answer for an address other than the one written (Python's ipaddress, which Gafaelfawr uses, refuses them).
    const outcomes: Record<string, string> = {};
    const wanted: Record<string, string> = {};
    for (const bad of ['198.51.7', '0306.51.100.7', '0xc6.51.100.7', '3325256711', '198.51.7/24']) {
      const response = await historyResponse({ filter: { ipAddress: bad }, first: 10 });
      const matched = response.data?.tokenHistory.edges.map((edge) => edge.node.ipAddress) ?? [];
      outcomes[bad] = response.errors?.[0]?.extensions?.code ?? `no error; matched ${JSON.stringify(matched)}`;
      wanted[bad] = 'BAD_IP_FILTER';
    }
    expect(outcomes).toEqual(wanted);
  });

  it('pages forward (first/after) and backward (last/before) through exactly the full listing, newest first', async () => {
    const listing = await history({ first: 1000 });
    const full = listing.edges.map((edge) => edge.node);
    expect(full.length).toBeGreaterThanOrEqual(25);
    expect(full).toHaveLength(listing.totalCount);
    expectNewestFirst(full);

    const forward = await walk('forward', undefined, 7);
    expect(forward.entries.map((entry) => entry.id)).toEqual(full.map((entry) => entry.id));
    expect(forward.totalCount).toBe(full.length);

    const backward = await walk('backward', undefined, 7);
    expect(backward.entries.map((entry) => entry.id)).toEqual(full.map((entry) => entry.id));
    expect(backward.totalCount).toBe(full.length);

    // Entries written by one change share their event time (a revocation and its descendants'): the id breaks the tie,
    // and a cursor inside such a group resumes exactly where it stopped, one entry per page.
    const times = full.map((entry) => entry.eventTime);
    expect(new Set(times).size, 'the data set has entries with equal event times').toBeLessThan(times.length);
    const tied = { key: keys['dave-ci'] as string };
    const family = await all(tied);
    expect(new Set(family.filter((entry) => entry.action === 'REVOKE').map((entry) => entry.eventTime)).size).toBe(1);
    expect((await walk('forward', tied, 1)).entries.map((entry) => entry.id)).toEqual(family.map((entry) => entry.id));
    expect((await walk('backward', tied, 1)).entries.map((entry) => entry.id)).toEqual(family.map((entry) => entry.id));

    // The newest entry is the last change made; the oldest is the first token ever minted.
    expect(full.at(-1)?.token).toBe(people.adminKey);
    expect(full.at(-1)?.action).toBe('CREATE');

    // A cursor from the middle resumes right after its own entry in either direction.
    const middle = listing.edges[10];
    expect(middle).toBeDefined();
    const afterMiddle = await history({ first: 3, after: middle?.cursor });
    expect(afterMiddle.edges.map((edge) => edge.node.id)).toEqual(full.slice(11, 14).map((entry) => entry.id));
    expect(afterMiddle.pageInfo.hasNextPage).toBe(true);
    const beforeMiddle = await history({ last: 3, before: middle?.cursor });
    expect(beforeMiddle.edges.map((edge) => edge.node.id)).toEqual(full.slice(7, 10).map((entry) => entry.id));
    expect(beforeMiddle.pageInfo.hasPreviousPage).toBe(true);
  });

  it('filters by username, actor, key (token or parent), type, action, address and inclusive time bounds, with matching totalCount and pages', async () => {
    const full = await all();
    const times = [...new Set(full.map((entry) => entry.eventTime))];
    // Bounds taken from entries' own event times, a third and two thirds of the way down the list.
    const upper = full[Math.floor(full.length / 3)]?.eventTime as string;
    const lower = full[Math.floor((2 * full.length) / 3)]?.eventTime as string;
    expect(times.length).toBeGreaterThan(3);
    const ms = (iso: string) => Date.parse(iso);
    const parentKey = keys['frank-ci'] as string;

    const cases: [TokenHistoryFilter, (entry: HistoryEntry) => boolean][] = [
      [{ username: 'frank' }, (entry) => entry.username === 'frank'],
      [{ actor: 'admin' }, (entry) => entry.actor === 'admin'],
      [{ actor: '<bootstrap>' }, (entry) => entry.actor === '<bootstrap>'],
      [{ key: parentKey }, (entry) => entry.token === parentKey || entry.parent === parentKey],
      [{ tokenType: 'NOTEBOOK' }, (entry) => entry.tokenType === 'NOTEBOOK'],
      [{ tokenType: 'SERVICE' }, (entry) => entry.tokenType === 'SERVICE'],
      [{ action: 'REVOKE' }, (entry) => entry.action === 'REVOKE'],
      [{ ipAddress: '198.51.100.0/24' }, (entry) => entry.ipAddress?.startsWith('198.51.100.') ?? false],
      [{ since: lower }, (entry) => ms(entry.eventTime) >= ms(lower)],
      [{ until: upper }, (entry) => ms(entry.eventTime) <= ms(upper)],
      [{ since: lower, until: upper }, (entry) => ms(entry.eventTime) >= ms(lower) && ms(entry.eventTime) <= ms(upper)],
      [{ since: upper, until: upper }, (entry) => entry.eventTime === upper],
      [{ username: 'dave', action: 'REVOKE' }, (entry) => entry.username === 'dave' && entry.action === 'REVOKE'],
      [
        { actor: 'admin', ipAddress: '2001:db8::/32', tokenType: 'USER' },
        (entry) => entry.actor === 'admin' && (entry.ipAddress?.startsWith('2001:db8:') ?? false) && entry.tokenType === 'USER',
      ],
      [{ username: 'nobody-here' }, () => false],
    ];
    for (const [filter, predicate] of cases) {
      const label = JSON.stringify(filter);
      const wanted = full.filter(predicate).map((entry) => entry.id);
      // Each filter (but the last) must keep some entries and drop others, or it proves nothing.
      if (filter.username !== 'nobody-here') {
        expect(wanted.length, `${label} keeps something`).toBeGreaterThan(0);
        expect(wanted.length, `${label} drops something`).toBeLessThan(full.length);
      }
      const listing = await history({ filter, first: 1000 });
      expect(
        listing.edges.map((edge) => edge.node.id),
        label,
      ).toEqual(wanted);
      expect(listing.totalCount, label).toBe(wanted.length);
      const forward = await walk('forward', filter, 3);
      expect(
        forward.entries.map((entry) => entry.id),
        `${label} forward`,
      ).toEqual(wanted);
      expect(forward.totalCount, `${label} forward totalCount`).toBe(wanted.length);
      const backward = await walk('backward', filter, 3);
      expect(
        backward.entries.map((entry) => entry.id),
        `${label} backward`,
      ).toEqual(wanted);
    }

    // The key filter reaches the children's entries, the inclusive bounds the bound's own entry.
    const family = await all({ key: parentKey });
    expect(new Set(family.map((entry) => entry.token))).toEqual(new Set([parentKey, keys['frank-notebook'], keys['frank-internal']]));
    expect((await all({ since: upper, until: upper })).map((entry) => entry.eventTime)).toContain(upper);

    // Someone without admin:token sees their own entries only.
    const own = await all(undefined, people.alice);
    expect(own.map((entry) => entry.id)).toEqual(full.filter((entry) => entry.username === 'alice').map((entry) => entry.id));
  });

  it('refuses bad page arguments and time ranges with typed GraphQL errors', async () => {
    expectCode(await historyResponse({ first: 1001 }), 'PAGE_SIZE_TOO_LARGE');
    expectCode(await historyResponse({ last: 1001 }), 'PAGE_SIZE_TOO_LARGE');
    expect((await history({ first: 1000 })).edges.length).toBeGreaterThan(0);
    expectCode(await historyResponse({ first: 5, after: 'garbage' }), 'BAD_CURSOR');
    expectCode(await historyResponse({ last: 5, before: 'not-a-cursor-at-all' }), 'BAD_CURSOR');
    expectCode(await historyResponse({ first: 5, after: Buffer.from('{"hello":"world"}').toString('base64url') }), 'BAD_CURSOR');
    expectCode(await historyResponse({ first: 5, last: 5 }), 'BAD_PAGINATION');
    expectCode(await historyResponse({ first: 5, filter: { since: '2030-01-02T00:00:00.000Z', until: '2030-01-01T00:00:00.000Z' } }), 'BAD_TIME_RANGE');
  });

  it('honours every cursor it is given, or refuses the combination, never answering outside the window', async () => {
    const listing = await history({ first: 1000 });
    const ids = listing.edges.map((edge) => edge.node.id);
    const cursor = (index: number) => listing.edges[index]?.cursor as string;
    const last = ids.length;
    expect(last).toBeGreaterThan(10);
    // Relay's algorithm: apply after and before to the whole list, then first or last to what remains.
    const cases: [string, HistoryVariables, string[]][] = [
      ['first: 3, before: #5', { first: 3, before: cursor(5) }, ids.slice(0, 3)],
      ['first: 10, before: #5', { first: 10, before: cursor(5) }, ids.slice(0, 5)],
      ['last: 3, after: #5', { last: 3, after: cursor(5) }, ids.slice(last - 3)],
      ['first: 10, after: #2, before: #6', { first: 10, after: cursor(2), before: cursor(6) }, ids.slice(3, 6)],
      ['last: 10, after: #2, before: #6', { last: 10, after: cursor(2), before: cursor(6) }, ids.slice(3, 6)],
    ];
    const outcomes: Record<string, unknown> = {};
    const wanted: Record<string, unknown> = {};
    for (const [label, variables, expected] of cases) {
      const response = await historyResponse(variables);
      const code = response.errors?.[0]?.extensions?.code;
      const got = response.data?.tokenHistory.edges.map((edge) => edge.node.id) ?? [];
      // Refusing the combination is acceptable; silently ignoring a cursor is not.
      outcomes[label] = code ?? got.map((id) => `#${ids.indexOf(id)}`);
      wanted[label] = code === 'BAD_PAGINATION' ? 'BAD_PAGINATION' : expected.map((id) => `#${ids.indexOf(id)}`);
    }
    expect(outcomes).toEqual(wanted);
  });

  it('resolves a history entry by node(id) for an admin', async () => {
    const [entry] = await entriesOf(keys['dave-ci'] as string, 'REVOKE');
    expect(entry).toBeDefined();
    const response = await server.request(HISTORY_NODE, { id: entry!.id }, { token: people.admin });
    expect(expectNoErrors(response).node).toEqual({ __typename: 'TokenChangeHistoryEntry', ...entry });
  });
});
