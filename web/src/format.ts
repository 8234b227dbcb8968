/** Times in the viewer's own locale: relative ("in 3 days") for reading, absolute for the title. */
// Days up to two months ("in 30 days" reads better than "next month"), then months, then years.
const UNITS: [Intl.RelativeTimeFormatUnit, number, number][] = [
  ['year', 365 * 86_400_000, 365 * 86_400_000],
  ['month', 60 * 86_400_000, 30 * 86_400_000],
  ['day', 86_400_000, 86_400_000],
  ['hour', 3_600_000, 3_600_000],
  ['minute', 60_000, 60_000],
];

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function relativeTime(iso: string, now = Date.now()): string {
  const difference = Date.parse(iso) - now;
  for (const [unit, from, size] of UNITS) {
    if (Math.abs(difference) >= from) return relativeFormat.format(Math.round(difference / size), unit);
  }
  return relativeFormat.format(Math.round(difference / 1000), 'second');
}

export function absoluteTime(iso: string): string {
  return absoluteFormat.format(new Date(iso));
}

const TYPE_NAMES: Record<string, string> = { USER: 'User', SESSION: 'Session', NOTEBOOK: 'Notebook', INTERNAL: 'Internal', SERVICE: 'Service' };
export const tokenTypeName = (type: string): string => TYPE_NAMES[type] ?? type;

const STATUS_NAMES: Record<string, string> = { ACTIVE: 'Active', EXPIRED: 'Expired', REVOKED: 'Revoked' };
export const statusName = (status: string): string => STATUS_NAMES[status] ?? status;

const ACTION_NAMES: Record<string, string> = { CREATE: 'Created', EDIT: 'Edited', REVOKE: 'Revoked', EXPIRE: 'Expired' };
export const actionName = (action: string): string => ACTION_NAMES[action] ?? action;

/** What a person calls a token: its name, else its type and key. */
export const tokenLabel = (token: { name?: string | null; tokenType: string; key: string }): string =>
  token.name ?? `${tokenTypeName(token.tokenType)} token ${token.key.slice(0, 8)}`;
