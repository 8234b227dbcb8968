/**
 * The live change feed with many writers (SPEC "Live change feed", "Several
 * processes, one database"): concurrent transactions in two server processes
 * and the CLI, which commit out of id order on PostgreSQL. Every entry
 * recorded after a subscription starts reaches each matching subscriber
 * exactly once, in feed order, on whichever process it subscribed; a
 * resumed subscriber gets the same. Real processes, real database, every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTessera } from '../support/cli.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, HISTORY, invalidateTokens, mint, revoke, TOKEN_CHANGES, type Cast } from '../support/operations.ts';
import { startPeerProcess, type PeerProcess } from '../support/peer-process.ts';
import { subscribeSse, type SseResult } from '../support/sse.ts';

type Changes = { tokenChanges: { cursor: string; node: { username: string } } };

const cursorId = (cursor: string): number => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, number])[1];
const idsOf = (results: SseResult<Changes>[]) => results.flatMap((result) => (result.data?.tokenChanges ? [cursorId(result.data.tokenChanges.cursor)] : []));

describe.each(engines())('the live change feed with concurrent writers on %s', (engine) => {
  let server: TestServer;
  let peer: PeerProcess;
  let people: Cast;

  beforeAll(async () => {
    server = await startServer(engine);
    peer = await startPeerProcess(server);
    people = await cast(server);
  }, 60_000);
  afterAll(async () => {
    await peer.close();
    await server.close();
  });

  /** Entry ids in feed order (commit order): (txId, id) on PostgreSQL, id on SQLite. */
  const feedOrder = async (where: object = {}) =>
    (
      await server.tessera.db.tokenChangeHistoryEntry.findMany({
        where,
        orderBy: [{ txId: { sort: 'asc', nulls: 'first' } }, { id: 'asc' }],
        select: { id: true },
      })
    ).map((row) => row.id);

  it('delivers every entry once, in feed order, to subscribers on either process, whichever process or the CLI wrote it', async () => {
    // The newest entry before anything below: a resumed subscriber starts after it.
    const newest = expectNoErrors(await server.request(HISTORY, { first: 1 }, { token: BOOTSTRAP_TOKEN })).tokenHistory.edges[0]?.cursor ?? '';
    const here = await subscribeSse(server.url, TOKEN_CHANGES, {}, people.admin);
    const there = await subscribeSse(peer.url, TOKEN_CHANGES, {}, people.admin);
    const alicesThere = await subscribeSse(peer.url, TOKEN_CHANGES, { filter: { username: 'alice' } }, people.alice);
    const before = new Set(await feedOrder());

    const writers = [server, peer];
    const minted = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        mint(writers[index % 2] as TestServer, BOOTSTRAP_TOKEN, { username: index % 3 === 0 ? 'alice' : 'bob', name: `busy-${index}`, scopes: ['read:all'] }),
      ),
    );
    // Halfway through, a subscriber resumes from before it all, on the other process.
    const resumed = await subscribeSse(peer.url, TOKEN_CHANGES, { resumeFrom: newest }, people.admin);
    const cliEnv = { DATABASE_URL: server.databaseUrl };
    await Promise.all([
      ...minted.slice(0, 10).map((token, index) => revoke(writers[index % 2] as TestServer, BOOTSTRAP_TOKEN, token.token.key)),
      ...minted.slice(10, 20).map((token, index) =>
        mint(writers[index % 2] as TestServer, BOOTSTRAP_TOKEN, {
          username: token.token.username,
          tokenType: 'NOTEBOOK',
          parent: token.token.key,
          scopes: [],
        }),
      ),
      invalidateTokens(server, BOOTSTRAP_TOKEN, { usernames: ['bob'], filter: { keys: minted.slice(20, 25).map((token) => token.token.key) }, reason: 'bulk' }),
      runTessera(['token', 'revoke', '--key', minted[25]?.token.key ?? '', '--reason', 'cli'], cliEnv).then((run) => expect(run.code, run.stderr).toBe(0)),
      runTessera(['token', 'revoke', '--key', minted[26]?.token.key ?? '', '--reason', 'cli'], cliEnv).then((run) => expect(run.code, run.stderr).toBe(0)),
    ]);

    const all = await feedOrder();
    const recorded = all.filter((id) => !before.has(id));
    const alices = (await feedOrder({ username: 'alice' })).filter((id) => !before.has(id));
    expect(recorded.length).toBeGreaterThan(50);
    // Within 2 s of the last commit, each subscriber has everything, once, in feed order.
    await Promise.all([here.waitFor(recorded.length, 2000), there.waitFor(recorded.length, 2000), alicesThere.waitFor(alices.length, 2000)]);
    await resumed.waitFor(recorded.length, 5000);
    // Nothing more trickles in.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const stream of [here, there, resumed]) expect(idsOf(stream.results.map((item) => item.result))).toEqual(recorded);
    expect(idsOf(alicesThere.results.map((item) => item.result))).toEqual(alices);
    for (const stream of [here, there, alicesThere, resumed]) stream.close();
  }, 60_000);

  // The reader polls PostgreSQL through a connection of its own: were its queries queued behind this process's requests
  // in the shared pool, an entry would wait for all of them (seconds under load) before it was delivered.
  it.runIf(engine === 'postgresql')(
    'delivers within 2 s while slow queries hold every connection of the subscriber process’s pool',
    async () => {
      const here = await subscribeSse(server.url, TOKEN_CHANGES, { filter: { username: 'carol' } }, people.admin);
      // Three times node-postgres' default pool size, 2 s each: the shared pool stays busy for about 6 s.
      let busy = true;
      const slow = Promise.all(Array.from({ length: 30 }, () => server.tessera.db.$queryRawUnsafe('SELECT 1 AS slept FROM pg_sleep(2)'))).finally(
        () => (busy = false),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Written by the other process, whose pool is free.
      const writer: TestServer | PeerProcess = peer;
      const minted = await mint(writer as TestServer, BOOTSTRAP_TOKEN, { username: 'carol', name: 'while-busy', scopes: ['read:all'] });
      try {
        await here.waitFor(1, 2000);
        expect(busy).toBe(true);
        expect(idsOf(here.results.map((item) => item.result))).toEqual(await feedOrder({ token: minted.token.key }));
      } finally {
        here.close();
        await slow;
      }
    },
    30_000,
  );
});
