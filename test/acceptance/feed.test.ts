/**
 * The live change feed (SPEC "Live change feed"): `subscription tokenChanges`
 * over Server-Sent Events on a real server, on every engine: delivery within
 * 2 s, tokenHistory's visibility and filters, cursors that tokenHistory takes,
 * resuming with nothing missed or repeated, the end of a stream when its
 * token's authority ends, and the bounds (streams per token, backlog).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import {
  cast,
  expectNoErrors,
  HISTORY,
  historyEntries,
  invalidateTokens,
  mint,
  minutesFromNow,
  pause,
  revoke,
  TOKEN_CHANGES,
  type Cast,
} from '../support/operations.ts';
import { subscribeSse, type SseResult, type SseStream } from '../support/sse.ts';

type Changes = { tokenChanges: { cursor: string; node: { id: string; token: string; username: string; actor: string; action: string; eventTime: string } } };

/** The history entry id a feed or tokenHistory cursor names ([epochMs, id], base64url). */
const cursorId = (cursor: string): number => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, number])[1];

const entriesOf = (results: SseResult<Changes>[]) => results.flatMap((result) => (result.data?.tokenChanges ? [result.data.tokenChanges] : []));
const idsOf = (results: SseResult<Changes>[]) => entriesOf(results).map((edge) => cursorId(edge.cursor));
const errorCodes = (results: SseResult<Changes>[]) => results.flatMap((result) => (result.errors ?? []).map((error) => error.extensions?.code));

describe.each(engines())('the live change feed on %s', (engine) => {
  let server: TestServer;
  let people: Cast;
  const open: SseStream<Changes>[] = [];

  const subscribe = async (token: string, variables: { filter?: object; resumeFrom?: string } = {}) => {
    const stream = await subscribeSse(server.url, TOKEN_CHANGES, variables, token);
    open.push(stream);
    return stream;
  };

  /** Every history entry id (ascending) recorded after `afterId`, as the database holds them. */
  const idsAfter = async (afterId: number, where: object = {}) =>
    (await server.tessera.db.tokenChangeHistoryEntry.findMany({ where: { id: { gt: afterId }, ...where }, orderBy: { id: 'asc' }, select: { id: true } })).map(
      (row) => row.id,
    );
  const lastId = async () => (await server.tessera.db.tokenChangeHistoryEntry.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }))?.id ?? 0;

  beforeAll(async () => {
    server = await startServer(engine);
    people = await cast(server);
  });
  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves GraphQL over SSE, and delivers each entry within 2 s, with a cursor that tokenHistory takes', async () => {
    const stream = await subscribe(people.admin);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');
    const before = await lastId();
    const minted = await mint(server, people.alice, { name: 'feed-delivery', scopes: ['read:all'] });
    const committedAt = Date.now();
    await stream.waitFor(1, 2000);
    const [first] = stream.results;
    expect(first?.result.errors).toBeUndefined();
    expect(first?.at ?? Infinity).toBeLessThanOrEqual(committedAt + 2000);
    const edge = entriesOf(stream.results.map((item) => item.result))[0];
    expect(edge?.node).toMatchObject({ token: minted.token.key, username: 'alice', actor: 'alice', action: 'CREATE' });
    expect(cursorId(edge?.cursor ?? '')).toBe((await idsAfter(before))[0]);
    // The event's cursor pages tokenHistory: the entries before it (newest first) are the older ones.
    const page = expectNoErrors(await server.request(HISTORY, { first: 1, after: edge?.cursor }, { token: BOOTSTRAP_TOKEN })).tokenHistory;
    expect(cursorId(page.edges[0]?.cursor ?? '')).toBe(before);
  });

  it("applies tokenHistory's visibility and filter: a user sees only its own entries, an admin all", async () => {
    const adminStream = await subscribe(people.admin);
    const bobStream = await subscribe(people.bob);
    const aliceRevokes = await subscribe(people.alice, { filter: { action: 'REVOKE' } });
    const bobAsksForAlice = await subscribeSse(server.url, TOKEN_CHANGES, { filter: { username: 'alice' } }, people.bob);
    await bobAsksForAlice.waitFor(1);
    expect(errorCodes(bobAsksForAlice.results.map((item) => item.result))).toEqual(['PERMISSION_DENIED']);
    await bobAsksForAlice.waitForEnd();

    const before = await lastId();
    const aliceToken = await mint(server, people.alice, { name: 'feed-visibility', scopes: ['read:all'] });
    await mint(server, people.bob, { name: 'feed-visibility', scopes: ['read:all'] });
    await revoke(server, people.alice, aliceToken.token.key);
    const all = await idsAfter(before);
    expect(all).toHaveLength(3);

    expect(idsOf(await adminStream.waitFor(3))).toEqual(all);
    expect(idsOf(await bobStream.waitFor(1))).toEqual(await idsAfter(before, { username: 'bob' }));
    expect(idsOf(await aliceRevokes.waitFor(1))).toEqual(await idsAfter(before, { username: 'alice', action: 'revoke' }));
    // Nothing else arrives later.
    await pause(1000);
    expect(adminStream.results).toHaveLength(3);
    expect(bobStream.results).toHaveLength(1);
    expect(aliceRevokes.results).toHaveLength(1);
  });

  it('resumes from a tokenHistory cursor: exactly the matching entries after it, then live ones, none twice', async () => {
    const start = await lastId();
    for (let index = 0; index < 4; index += 1) await mint(server, people.alice, { name: `feed-resume-${index}`, scopes: ['read:all'] });
    // tokenHistory is newest first: the fourth edge is the first of the four entries.
    const page = expectNoErrors(await server.request(HISTORY, { first: 4, filter: { username: 'alice' } }, { token: people.alice })).tokenHistory;
    const cursor = page.edges[3]?.cursor ?? '';
    expect(cursorId(cursor)).toBe((await idsAfter(start))[0]);

    const resumed = await subscribe(people.alice, { resumeFrom: cursor });
    await resumed.waitFor(3);
    await mint(server, people.alice, { name: 'feed-resume-live', scopes: ['read:all'] });
    await mint(server, people.bob, { name: 'feed-resume-bob', scopes: ['read:all'] });
    const expected = (await idsAfter(start, { username: 'alice' })).slice(1);
    expect(idsOf(await resumed.waitFor(4))).toEqual(expected);
    await pause(800);
    expect(idsOf(resumed.results.map((item) => item.result))).toEqual(expected);

    // A cursor that names no kept entry (pruned, or made up) is refused with BAD_CURSOR.
    const made = Buffer.from(JSON.stringify([Date.now(), 999_999_999])).toString('base64url');
    const refused = await subscribe(people.alice, { resumeFrom: made });
    await refused.waitForEnd();
    expect(errorCodes(refused.results.map((item) => item.result))).toEqual(['BAD_CURSOR']);
  });

  it('ends a stream within 5 s when its token is revoked, and delivers nothing recorded after', async () => {
    const carol = await mint(server, BOOTSTRAP_TOKEN, { username: 'carol', name: 'main', scopes: ['user:token', 'read:all'] });
    const stream = await subscribe(carol.secret);
    const other = await subscribe(carol.secret, { filter: { action: 'EDIT' } });
    await mint(server, carol.secret, { name: 'carol-child', scopes: ['read:all'] });
    await stream.waitFor(1);
    const revokedAt = Date.now();
    await revoke(server, people.admin, carol.token.key);
    await Promise.all([stream.waitForEnd(5000), other.waitForEnd(5000)]);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    const results = stream.results.map((item) => item.result);
    expect(errorCodes(results)).toEqual(['STREAM_AUTHORITY_ENDED']);
    expect(errorCodes(other.results.map((item) => item.result))).toEqual(['STREAM_AUTHORITY_ENDED']);
    // The only entry delivered is the one recorded while the token was good.
    expect(entriesOf(results).map((edge) => edge.node.action)).toEqual(['CREATE']);
    // The stream no longer holds a place in the hub.
    await expect.poll(() => server.tessera.feed.openStreams).toBe(0);
  });

  it('ends a stream within 5 s when its token expires (by the server clock), and delivers nothing recorded after', async () => {
    const dave = await mint(server, BOOTSTRAP_TOKEN, { username: 'dave', name: 'main', scopes: ['user:token'], expires: minutesFromNow(10, server.clock) });
    const stream = await subscribe(dave.secret);
    await mint(server, BOOTSTRAP_TOKEN, { username: 'dave', name: 'before-expiry', scopes: [] });
    await stream.waitFor(1);
    server.clock.advance(11 * 60_000);
    await stream.waitForEnd(5000);
    await mint(server, BOOTSTRAP_TOKEN, { username: 'dave', name: 'after-expiry', scopes: [] });
    await pause(500);
    const results = stream.results.map((item) => item.result);
    expect(entriesOf(results)).toHaveLength(1);
    expect(errorCodes(results)).toEqual(['STREAM_AUTHORITY_ENDED']);
  });

  it('refuses one stream more than TESSERA_MAX_STREAMS_PER_TOKEN (20) with TOO_MANY_STREAMS, and frees a place when a client leaves', async () => {
    const erin = await mint(server, BOOTSTRAP_TOKEN, { username: 'erin', name: 'main', scopes: ['user:token'] });
    const streams = await Promise.all(Array.from({ length: 20 }, () => subscribe(erin.secret)));
    for (const stream of streams) expect(stream.status).toBe(200);
    await expect.poll(() => server.tessera.feed.openStreams).toBe(20);
    const refused = await subscribe(erin.secret);
    await refused.waitForEnd();
    expect(errorCodes(refused.results.map((item) => item.result))).toEqual(['TOO_MANY_STREAMS']);
    // Another token's streams are counted apart.
    const bobs = await subscribe(people.bob);
    await expect.poll(() => server.tessera.feed.openStreams).toBe(21);
    bobs.close();
    streams[0]?.close();
    await expect.poll(() => server.tessera.feed.openStreams).toBe(19);
    const admitted = await subscribe(erin.secret);
    await expect.poll(() => server.tessera.feed.openStreams).toBe(20);
    await mint(server, BOOTSTRAP_TOKEN, { username: 'erin', name: 'seen', scopes: [] });
    expect(idsOf(await admitted.waitFor(1))).toHaveLength(1);
  });
});

describe.each(engines())('the live change feed backlog bound on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine, { env: { TESSERA_FEED_BACKLOG: '5' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('closes a stream whose backlog passes the bound, with an error that says to resume, and the resume delivers the rest', async () => {
    const people = await cast(server);
    for (let index = 0; index < 12; index += 1) await mint(server, BOOTSTRAP_TOKEN, { username: 'frank', name: `t${index}`, scopes: [] });
    const stream = await subscribeSse(server.url, TOKEN_CHANGES, { filter: { username: 'frank' } }, people.admin);
    await mint(server, BOOTSTRAP_TOKEN, { username: 'frank', name: 'first', scopes: [] });
    const [first] = await stream.waitFor(1);
    const lastCursor = first?.data?.tokenChanges.cursor ?? '';
    // One transaction records 13 entries: more than the stream may hold before its client reads.
    await invalidateTokens(server, people.admin, { usernames: ['frank'], reason: 'burst' });
    await stream.waitForEnd(5000);
    const results = stream.results.map((item) => item.result);
    expect(errorCodes(results)).toEqual(['STREAM_BACKLOG_EXCEEDED']);
    expect(results.at(-1)?.errors?.[0]?.message).toMatch(/resumeFrom/);
    await expect.poll(() => server.tessera.feed.openStreams).toBe(0);

    // Resuming from the last cursor received replays the burst, paced by the reader.
    const resumed = await subscribeSse(server.url, TOKEN_CHANGES, { filter: { username: 'frank' }, resumeFrom: lastCursor }, people.admin);
    const revokes = (await historyEntries(server, { username: 'frank', action: 'REVOKE' })).length;
    expect(revokes).toBe(13);
    const replayed = await resumed.waitFor(13);
    expect(entriesOf(replayed).map((edge) => edge.node.action)).toEqual(Array(13).fill('REVOKE'));
    expect(new Set(idsOf(replayed)).size).toBe(13);
    resumed.close();
  });
});
