import type { HistoryRow } from '../../db/client.ts';
import type { JsonObject } from '../model.ts';
import { scopesOf } from '../rules/scopes.ts';

const epochSeconds = (time: Date | null): number | null => (time === null ? null : Math.floor(time.getTime() / 1000));

/**
 * Gafaelfawr's `model_dump_reduced()`: the entry as a dictionary without the
 * fields that say nothing for this kind of change.
 */
export function reducedEntry(entry: HistoryRow): JsonObject {
  const reduced: JsonObject = {
    token: entry.token,
    username: entry.username,
    token_type: entry.tokenType,
    token_name: entry.tokenName,
    parent: entry.parent,
    scopes: scopesOf(entry),
    service: entry.service,
    expires: epochSeconds(entry.expires),
    actor: entry.actor,
    action: entry.action,
    old_token_name: entry.oldTokenName,
    old_scopes: entry.oldScopes === null ? null : scopesOf({ scopes: entry.oldScopes }),
    old_expires: epochSeconds(entry.oldExpires),
    ip_address: entry.ipAddress,
    event_time: epochSeconds(entry.eventTime),
  };
  for (const optional of ['token_name', 'parent', 'service'] as const) {
    if (reduced[optional] === null) delete reduced[optional];
  }
  if (entry.action !== 'edit') {
    delete reduced.old_token_name;
    delete reduced.old_scopes;
    delete reduced.old_expires;
  } else {
    if (entry.oldTokenName === null) delete reduced.old_token_name;
    if (entry.oldScopes === null) delete reduced.old_scopes;
    // An edit that cleared the expiry has expires null and old_expires set;
    // only when both are null did the expiry not change.
    if (entry.oldExpires === null && entry.expires === null) delete reduced.old_expires;
  }
  return reduced;
}
