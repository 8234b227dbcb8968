import type { Engine } from '../config.ts';
import type { Database, DatabaseTransaction, Prisma } from '../db/client.ts';
import { inTransaction } from '../db/transaction.ts';
import { queueDeliveries } from '../db/webhook-deliveries.ts';
import type { Clock, TokenChange } from '../domain/model.ts';
import { EVENT_OF_CHANGE, eventsOf, historyEvent } from '../domain/webhooks/events.ts';
import { FEED_ORDER, keyOf, keyRangeWhere, type FeedKey } from '../feed/order.ts';

/** Entries read per transaction. */
const PAGE = 500;
/** SQLite needs no horizon (one writer: everything committed is final); this stands for "the end". */
const END_OF_SQLITE: FeedKey = { txId: 0n, id: 2_147_483_647 };

export interface TailedWebhook {
  id: string;
  events: unknown;
  cursorTxId: bigint;
  cursorId: number;
}

/**
 * Turns history entries into webhook deliveries. Each webhook tails the
 * history in the live feed's commit order (feed/order.ts) from its cursor;
 * the entries it reads become delivery rows (one per matching entry, skipped
 * if already there) and its cursor moves past them, in one transaction, so
 * that a crash between the two loses or repeats nothing. On PostgreSQL only
 * entries of transactions below the oldest one still running are read (they
 * can no longer be joined by an earlier-committing one), as the feed's reader
 * does; the webhook's row is locked FOR UPDATE SKIP LOCKED, so that of several
 * processes one advances a given webhook at a time and the others pass it by.
 */
export class Dispatcher {
  constructor(
    private readonly db: Database,
    private readonly engine: Engine,
    private readonly now: Clock,
  ) {}

  /** Queues what each webhook has not yet seen; returns how many deliveries were queued. */
  async run(webhooks: readonly TailedWebhook[]): Promise<number> {
    let queued = 0;
    for (const webhook of webhooks) {
      const actions = (Object.keys(EVENT_OF_CHANGE) as TokenChange[]).filter((action) => eventsOf(webhook.events).includes(EVENT_OF_CHANGE[action]));
      if (actions.length === 0) continue;
      // A cheap look first, outside any transaction: on SQLite a transaction takes the write lock.
      const cursor = { txId: webhook.cursorTxId, id: webhook.cursorId };
      const waiting = await this.db.tokenChangeHistoryEntry.findFirst({ where: await this.range(this.db, cursor), select: { id: true } });
      if (!waiting) continue;
      for (;;) {
        const { read, queued: added } = await inTransaction(this.db, (tx) => this.advance(tx, webhook.id, actions));
        queued += added;
        if (read < PAGE) break;
      }
    }
    return queued;
  }

  private async advance(tx: DatabaseTransaction, webhookId: string, actions: readonly TokenChange[]): Promise<{ read: number; queued: number }> {
    if (this.engine === 'postgresql') {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "webhooks" WHERE "id" = ${webhookId} FOR UPDATE SKIP LOCKED`;
      if (locked.length === 0) return { read: 0, queued: 0 };
    }
    const webhook = await tx.webhook.findUnique({ where: { id: webhookId }, select: { cursorTxId: true, cursorId: true } });
    if (!webhook) return { read: 0, queued: 0 };
    const page = await tx.tokenChangeHistoryEntry.findMany({
      where: await this.range(tx, { txId: webhook.cursorTxId, id: webhook.cursorId }),
      orderBy: FEED_ORDER,
      take: PAGE,
    });
    const last = page.at(-1);
    if (!last) return { read: 0, queued: 0 };
    const matching = page.filter((entry) => actions.includes(entry.action));
    const keys = [...new Set(matching.map((entry) => entry.token))];
    const tokens = keys.length === 0 ? [] : await tx.token.findMany({ where: { key: { in: keys } } });
    const byKey = new Map(tokens.map((token) => [token.key, token]));
    const queued = await queueDeliveries(
      tx,
      this.engine,
      matching.map((entry) => ({ webhookId, ...historyEvent(entry, byKey.get(entry.token) ?? null) })),
      this.now(),
    );
    const key = keyOf(last);
    await tx.webhook.update({ where: { id: webhookId }, data: { cursorTxId: key.txId, cursorId: key.id } });
    return { read: page.length, queued };
  }

  /** The entries after `cursor` that are final: all of them on SQLite; those of transactions below the oldest running one on PostgreSQL. */
  private async range(client: Database | DatabaseTransaction, cursor: FeedKey): Promise<Prisma.TokenChangeHistoryEntryWhereInput> {
    if (this.engine === 'sqlite') return keyRangeWhere(this.engine, cursor, END_OF_SQLITE);
    const rows = await client.$queryRawUnsafe<{ xmin: string }[]>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
    return keyRangeWhere(this.engine, cursor, { txId: BigInt(rows[0]?.xmin ?? '0'), id: 0 });
  }
}
