/**
 * Links from history entries to tokens (tokenRecord, parentRecord, and the
 * token's own parent and children) are batched per request by DataLoader:
 * the number of SQL statements a history page costs does not grow with the
 * page size. Statements are counted with Prisma's client `query` events,
 * which fire through both driver adapters (better-sqlite3 and pg).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.ts';
import { BOOTSTRAP_TOKEN, engines, startServer, type TestServer } from '../support/harness.ts';
import { cast, expectNoErrors, mint, revokeToken } from '../support/operations.ts';

const OWNERS = ['owner-a', 'owner-b', 'owner-c', 'owner-d', 'owner-e'];
const USER_TOKENS = 60;
const REVOKED = 15;

const HISTORY_WITH_LINKS = graphql(`
  query Linked($first: Int!) {
    tokenHistory(first: $first) {
      edges {
        node {
          token
          action
          tokenRecord { key name parent { key } children { edges { node { key } } } }
          parentRecord { key }
        }
      }
      totalCount
    }
  }
`);

const CHILDREN_OF_PAGE = graphql(`
  query ChildrenOfPage($username: String!) {
    tokens(username: $username, filter: { tokenTypes: [USER] }, first: 10) {
      edges { node { key oldest: children(first: 1) { edges { node { key } } } firstThree: children(first: 3) { edges { node { key } } } } }
    }
  }
`);

/** Runs `work` a few at a time (the order of creation does not matter here). */
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(work));
}

describe.each(engines())('DataLoader batching of history links on %s', (engine) => {
  let server: TestServer;
  let admin: string;
  /** Statements seen since the last reset, as Prisma reports them. */
  let statements: string[] = [];
  const userKeys: string[] = [];
  const childOf = new Map<string, string>();

  beforeAll(async () => {
    server = await startServer(engine, { queryEvents: true });
    server.onStatement((sql) => {
      statements.push(sql);
    });
    admin = (await cast(server)).admin;

    const indexes = Array.from({ length: USER_TOKENS }, (_, index) => index);
    await inBatches(indexes, 10, async (index) => {
      const owner = OWNERS[index % OWNERS.length] as string;
      const user = await mint(server, BOOTSTRAP_TOKEN, { username: owner, name: `token-${index}`, scopes: ['read:all', 'exec:notebook'] });
      userKeys[index] = user.token.key;
    });
    await inBatches(indexes, 10, async (index) => {
      const owner = OWNERS[index % OWNERS.length] as string;
      const parent = userKeys[index] as string;
      const notebook = await mint(server, BOOTSTRAP_TOKEN, { username: owner, tokenType: 'NOTEBOOK', parent, scopes: ['read:all'] });
      childOf.set(parent, notebook.token.key);
    });
    // Revoking a parent revokes its notebook too: two REVOKE entries each, the newest part of the history.
    await inBatches(indexes.slice(0, REVOKED), 5, async (index) => {
      const parent = userKeys[index] as string;
      const result = await revokeToken(server, BOOTSTRAP_TOKEN, { key: parent });
      expect(result).toEqual({ __typename: 'InvalidateTokensPayload', count: 2, keys: expect.arrayContaining([parent, childOf.get(parent)]) });
    });
  }, 120_000);
  afterAll(async () => server?.close());

  /** Serves one request and returns its answer with the statements issued while serving it. */
  async function measured(first: number) {
    statements = [];
    const response = await server.request(HISTORY_WITH_LINKS, { first }, { token: admin });
    // Let any event still queued behind the response be delivered before reading the count.
    await new Promise((resolve) => setImmediate(resolve));
    const issued = statements;
    statements = [];
    return { data: expectNoErrors(response), issued };
  }

  it('serves 100 linked history entries with the same small number of statements as 5', async () => {
    // Warm-up: the first request of a process may prepare things that later ones reuse.
    await measured(5);

    const small = await measured(5);
    const large = await measured(100);
    const largeAgain = await measured(100);

    const total = 3 + 2 * USER_TOKENS + 2 * REVOKED;
    expect(large.data.tokenHistory.totalCount).toBe(total);
    expect(small.data.tokenHistory.edges).toHaveLength(5);
    expect(large.data.tokenHistory.edges).toHaveLength(100);

    // The links are really resolved: the page holds revocations and creations of parents and children.
    const entries = large.data.tokenHistory.edges.map((edge) => edge.node);
    for (const entry of entries) expect(entry.tokenRecord?.key).toBe(entry.token);
    const withParent = entries.filter((entry) => entry.parentRecord !== null);
    const withChildren = entries.filter((entry) => (entry.tokenRecord?.children.edges.length ?? 0) > 0);
    expect(withParent.length).toBeGreaterThan(20);
    expect(withChildren.length).toBeGreaterThan(20);
    expect(entries.some((entry) => entry.action === 'REVOKE')).toBe(true);
    expect(entries.some((entry) => entry.action === 'CREATE')).toBe(true);
    for (const entry of withParent) expect(entry.tokenRecord?.parent?.key).toBe(entry.parentRecord?.key);
    for (const entry of withChildren) expect(entry.tokenRecord?.children.edges).toEqual([{ node: { key: childOf.get(entry.token) } }]);

    console.log(
      `[${engine}] SQL statements per request: tokenHistory(first: 5) = ${small.issued.length}, ` +
        `tokenHistory(first: 100) = ${large.issued.length} (repeat: ${largeAgain.issued.length})\n` +
        large.issued.map((sql, index) => `  ${index + 1}. ${sql.slice(0, 140)}`).join('\n'),
    );

    // The counting itself works: the page query is among what was seen.
    expect(large.issued.some((sql) => /token_change_history/.test(sql))).toBe(true);
    const detail = `first: 5 ->\n${small.issued.join('\n')}\n\nfirst: 100 ->\n${large.issued.join('\n')}`;
    expect(large.issued.length, detail).toBe(small.issued.length);
    expect(largeAgain.issued.length, detail).toBe(large.issued.length);
    expect(large.issued.length, detail).toBeLessThanOrEqual(8);
  });

  it('reads at most `first` children per parent, in one statement per page size, however many children a parent has', async () => {
    const owner = 'fertile-owner';
    const parents: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      parents.push((await mint(server, BOOTSTRAP_TOKEN, { username: owner, name: `parent-${index}`, scopes: ['read:all'] })).token.key);
    }
    // 200 children each, written straight to the database; created a millisecond apart, keys in the
    // opposite order, so that "oldest first" is told by the time and not by the key.
    const start = server.clock.now().getTime();
    const childrenOf = new Map<string, string[]>();
    for (const [parentIndex, parentKey] of parents.entries()) {
      const rows = Array.from({ length: 200 }, (_, index) => ({
        key: `child${parentIndex}${String(999 - index).padStart(16, '0')}`,
        secretHash: randomBytes(32).toString('hex'),
        generatorId: 'vendor_checksum',
        username: owner,
        tokenType: 'notebook' as const,
        scopes: ['read:all'],
        parentKey,
        policy: {},
        metadata: {},
        createdAt: new Date(start + index),
        lastUpdatedAt: new Date(start + index),
      }));
      await server.tessera.db.token.createMany({ data: rows });
      childrenOf.set(
        parentKey,
        rows.map((row) => row.key),
      );
    }

    // Prisma's own query events carry the parameters, so that the children statements can be run again and their rows counted.
    const seen: { query: string; params: string }[] = [];
    let listening = true;
    server.tessera.db.$on('query', (event) => {
      if (listening) seen.push({ query: event.query, params: event.params });
    });
    const response = await server.request(CHILDREN_OF_PAGE, { username: owner }, { token: admin });
    await new Promise((resolve) => setImmediate(resolve));
    listening = false;

    const nodes = expectNoErrors(response).tokens.edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.key).sort()).toEqual([...parents].sort());
    for (const node of nodes) {
      const children = childrenOf.get(node.key) ?? [];
      expect(node.oldest.edges.map((edge) => edge.node.key)).toEqual(children.slice(0, 1));
      expect(node.firstThree.edges.map((edge) => edge.node.key)).toEqual(children.slice(0, 3));
    }

    // The children are read by statements that search by parent: one per page size asked, for all four parents.
    const childStatements = seen.filter((statement) => /"parent_key"\s*(=|IN)/i.test(statement.query));
    expect(childStatements.map((statement) => statement.query.slice(0, 200))).toHaveLength(2);
    // Run again, they return at most `first` rows per parent, and one more that says whether a next page
    // exists: 4 × 2 and 4 × 4, not 4 × 200.
    const rowCounts = [];
    for (const statement of childStatements) {
      const rows = await server.tessera.db.$queryRawUnsafe<unknown[]>(statement.query, ...(JSON.parse(statement.params) as unknown[]));
      rowCounts.push(rows.length);
    }
    expect(rowCounts.sort((a, b) => a - b)).toEqual([8, 16]);
  });
});
