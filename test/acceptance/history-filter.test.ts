/**
 * The history filter is defined once (src/domain/history/filter.ts) and read
 * two ways: as SQL by tokenHistory and the feed's replay, as a test on a row
 * by the feed's live fan-out. On a varied set of entries, for every filter
 * field alone and in combination, both select exactly the same entries, on
 * every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyCriteria, historyMatches, historyWhere, type HistoryFilter } from '../../src/domain/history/filter.ts';
import { ipKey } from '../../src/domain/ip.ts';
import { operatorActor } from '../../src/domain/rules/authorization.ts';
import { Authorizer } from '../../src/domain/rules/authorization.ts';
import { BOOTSTRAP_ACTOR, type Actor } from '../../src/domain/model.ts';
import { createLogger } from '../../src/logger.ts';
import { engines, startServer, type TestServer } from '../support/harness.ts';

const KEYS = ['A'.repeat(22), 'B'.repeat(22), 'C'.repeat(22)];
const ADDRESSES = [null, '10.0.0.1', '10.0.0.255', '10.1.0.1', '192.168.1.7', '2001:db8::1', '2001:db8:0:1::5', '::ffff:10.0.0.9'];
const TIMES = [0, 1, 2, 3, 4].map((minute) => new Date(Date.UTC(2026, 0, 1, 12, minute, 0, minute * 7)));

const filters: HistoryFilter[] = [
  {},
  { username: 'alice' },
  { username: 'nobody' },
  { actor: '<cli>' },
  { actor: 'bob' },
  { key: KEYS[0] },
  { key: KEYS[1] },
  { token: KEYS[0] },
  { token: KEYS[2] },
  { tokenType: 'notebook' },
  { tokenType: 'user' },
  { action: 'revoke' },
  { action: 'edit' },
  { ipAddress: '10.0.0.1' },
  { ipAddress: '10.0.0.0/24' },
  { ipAddress: '10.0.0.0/8' },
  { ipAddress: '2001:db8::/32' },
  { ipAddress: '2001:db8::/64' },
  { ipAddress: '::ffff:10.0.0.0/120' },
  { ipAddress: '0.0.0.0/0' },
  { since: TIMES[2] },
  { until: TIMES[2] },
  { since: TIMES[1], until: TIMES[3] },
  { username: 'alice', action: 'create', since: TIMES[1] },
  { key: KEYS[0], tokenType: 'user', ipAddress: '10.0.0.0/8' },
  { token: KEYS[1], actor: 'alice', until: TIMES[4] },
];

describe.each(engines())('the history filter, as SQL and as a row test, on %s', (engine) => {
  let server: TestServer;
  const authorizer = new Authorizer(createLogger('silent'));
  const admin: Actor = operatorActor(BOOTSTRAP_ACTOR);
  const alice: Actor = { username: 'alice', scopes: ['user:token'], tokenKey: KEYS[2] ?? null, ipAddress: null, policy: {} };

  beforeAll(async () => {
    server = await startServer(engine);
    const users = ['alice', 'bob'];
    const actors = ['alice', 'bob', '<cli>', '<internal>'];
    const types = ['user', 'notebook', 'session'] as const;
    const actions = ['create', 'revoke', 'expire', 'edit'] as const;
    const data = Array.from({ length: 120 }, (_, index) => {
      const address = ADDRESSES[index % ADDRESSES.length] ?? null;
      return {
        token: KEYS[index % 3] ?? '',
        parent: index % 4 === 0 ? null : (KEYS[(index + 1) % 3] ?? null),
        username: users[index % 2] ?? '',
        tokenType: types[index % 3] ?? 'user',
        scopes: [],
        actor: actors[index % 4] ?? '',
        action: actions[(index >> 1) % 4] ?? 'create',
        ipAddress: address,
        ipKey: address === null ? null : ipKey(address),
        eventTime: TIMES[index % TIMES.length] ?? new Date(),
      };
    });
    await server.tessera.db.tokenChangeHistoryEntry.createMany({ data });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(filters.map((filter) => [JSON.stringify(filter), filter] as const))('%s selects the same entries both ways', async (_name, filter) => {
    const rows = await server.tessera.db.tokenChangeHistoryEntry.findMany({ orderBy: { id: 'asc' } });
    for (const actor of [admin, alice]) {
      if (actor === alice && filter.username && filter.username !== 'alice') continue;
      const criteria = historyCriteria(authorizer, actor, filter);
      const bySql = (
        await server.tessera.db.tokenChangeHistoryEntry.findMany({ where: historyWhere(criteria), orderBy: { id: 'asc' }, select: { id: true } })
      ).map((row) => row.id);
      const byRow = rows.filter((row) => historyMatches(criteria, row)).map((row) => row.id);
      expect(byRow).toEqual(bySql);
      // The data set is built so that each filter selects some of the entries and leaves others (except the empty filter and the user no one is).
      if (Object.keys(filter).length > 0 && filter.username !== 'nobody' && actor === admin) {
        expect(bySql.length, 'selects some').toBeGreaterThan(0);
        expect(bySql.length, 'leaves some').toBeLessThan(rows.length);
      }
    }
  });
});
