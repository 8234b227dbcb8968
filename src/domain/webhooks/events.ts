import type { HistoryRow, TokenRow } from '../../db/client.ts';
import { reducedEntry } from '../history/reduced.ts';
import type { JsonObject, TokenChange } from '../model.ts';
import { scopesOf } from '../rules/scopes.ts';

/**
 * The events a webhook may receive, and the bodies delivered for them. A
 * body follows Standard Webhooks' shape: `type`, `timestamp` (the event's
 * time, ISO 8601) and `data`, which holds `token` (the token's public fields)
 * and, for the events that a history entry records, `entry` (that entry's
 * reduced form, the same dictionary as TokenChangeHistoryEntry.reduced).
 */
export const WEBHOOK_EVENTS = ['token.created', 'token.edited', 'token.revoked', 'token.expired', 'token.expiring'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The event each kind of history entry is delivered as. */
export const EVENT_OF_CHANGE: Record<TokenChange, WebhookEvent> = {
  create: 'token.created',
  edit: 'token.edited',
  revoke: 'token.revoked',
  expire: 'token.expired',
};

const isWebhookEvent = (value: unknown): value is WebhookEvent => typeof value === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(value);

/** A webhook's stored event list, read back (a JSON list of event names). */
export function eventsOf(stored: unknown): WebhookEvent[] {
  return Array.isArray(stored) ? stored.filter(isWebhookEvent) : [];
}

/** The webhook-id header of an event: the same for every attempt, and for every webhook that receives it. */
const historyEventId = (entry: Pick<HistoryRow, 'id'>): string => `msg_h${entry.id}`;
const expiringEventId = (tokenKey: string, thresholdDays: number): string => `msg_x${tokenKey}_${thresholdDays}d`;

const epochSeconds = (time: Date | null): number | null => (time === null ? null : Math.floor(time.getTime() / 1000));

/**
 * What a receiver may know of a token: never its secret nor its hash; its
 * policy and metadata are left out too (they may be large, and a receiver
 * that needs them asks the API). Snake case and epoch seconds, like the
 * reduced entry beside it.
 */
function publicTokenFields(token: TokenRow): JsonObject {
  return {
    key: token.key,
    username: token.username,
    token_type: token.tokenType,
    name: token.name,
    scopes: scopesOf(token),
    service: token.service,
    parent: token.parentKey,
    note: token.note,
    created: epochSeconds(token.createdAt),
    expires: epochSeconds(token.expiresAt),
    last_used: epochSeconds(token.lastUsedAt),
    valid: token.valid,
    invalid_reason: token.invalidReason,
  };
}

/** A delivery row's content: what is sent, under which id. */
export interface EventDraft {
  eventId: string;
  eventType: WebhookEvent;
  /** The JSON body, serialized once so that every attempt sends (and signs) the same bytes. */
  payload: string;
}

/** The event a history entry reports; the token is as it is when the event is queued (null if its row is gone). */
export function historyEvent(entry: HistoryRow, token: TokenRow | null): EventDraft {
  const eventType = EVENT_OF_CHANGE[entry.action];
  const data: JsonObject = { entry: reducedEntry(entry), token: token === null ? null : publicTokenFields(token) };
  return { eventId: historyEventId(entry), eventType, payload: JSON.stringify({ type: eventType, timestamp: entry.eventTime.toISOString(), data }) };
}

/** token.expiring: the token will expire within `thresholdDays` days. */
export function expiringEvent(token: TokenRow, thresholdDays: number, at: Date): EventDraft {
  const data: JsonObject = { token: publicTokenFields(token), threshold_days: thresholdDays };
  return {
    eventId: expiringEventId(token.key, thresholdDays),
    eventType: 'token.expiring',
    payload: JSON.stringify({ type: 'token.expiring', timestamp: at.toISOString(), data }),
  };
}
