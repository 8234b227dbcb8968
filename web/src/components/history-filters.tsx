import { useState } from 'preact/hooks';
import type { TokenChange, TokenHistoryFilter } from '../generated/graphql.ts';
import { FieldError } from './field-error.tsx';

export interface FilterDraft {
  action: '' | TokenChange;
  key: string;
  since: string;
  until: string;
  username: string;
  actor: string;
  ipAddress: string;
}

export const EMPTY_FILTER: FilterDraft = { action: '', key: '', since: '', until: '', username: '', actor: '', ipAddress: '' };

/** datetime-local values are the viewer's local time; the API takes instants. */
const instant = (local: string) => (local ? new Date(local).toISOString() : null);

export function toFilter(draft: FilterDraft): TokenHistoryFilter {
  const filter: TokenHistoryFilter = {};
  if (draft.action) filter.action = draft.action;
  if (draft.key.trim()) filter.key = draft.key.trim();
  if (draft.since) filter.since = instant(draft.since);
  if (draft.until) filter.until = instant(draft.until);
  if (draft.username.trim()) filter.username = draft.username.trim();
  if (draft.actor.trim()) filter.actor = draft.actor.trim();
  if (draft.ipAddress.trim()) filter.ipAddress = draft.ipAddress.trim();
  return filter;
}

interface Props {
  isAdmin: boolean;
  /** Errors the server gave for a filter field (a bad CIDR, a backwards range). */
  errors: { ipAddress?: string | undefined; until?: string | undefined };
  onApply(draft: FilterDraft): void;
}

const ACTIONS: ['' | TokenChange, string][] = [
  ['', 'Any'],
  ['CREATE', 'Created'],
  ['EDIT', 'Edited'],
  ['REVOKE', 'Revoked'],
  ['EXPIRE', 'Expired'],
];

export function HistoryFilters({ isAdmin, errors, onApply }: Props) {
  const [draft, setDraft] = useState<FilterDraft>(EMPTY_FILTER);
  const text = (field: 'key' | 'username' | 'actor' | 'ipAddress', label: string, error?: string) => (
    <div class="field">
      <label for={`history-${field}`}>{label}</label>
      <input
        id={`history-${field}`}
        type="text"
        autocomplete="off"
        value={draft[field]}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `history-${field}-error` : undefined}
        onInput={(event) => setDraft({ ...draft, [field]: event.currentTarget.value })}
      />
      <FieldError id={`history-${field}-error`} message={error} />
    </div>
  );
  return (
    <search aria-label="Filter the history">
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          onApply(draft);
        }}
      >
        <div class="field">
          <label for="history-action">Action</label>
          <select
            id="history-action"
            value={draft.action}
            onChange={(event) => setDraft({ ...draft, action: event.currentTarget.value as FilterDraft['action'] })}
          >
            {ACTIONS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {text('key', 'Token key')}
        <div class="field">
          <label for="history-since">Since</label>
          <input id="history-since" type="datetime-local" value={draft.since} onInput={(event) => setDraft({ ...draft, since: event.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="history-until">Until</label>
          <input
            id="history-until"
            type="datetime-local"
            value={draft.until}
            aria-invalid={errors.until ? 'true' : undefined}
            aria-describedby={errors.until ? 'history-until-error' : undefined}
            onInput={(event) => setDraft({ ...draft, until: event.currentTarget.value })}
          />
          <FieldError id="history-until-error" message={errors.until} />
        </div>
        {isAdmin && text('username', 'Username')}
        {isAdmin && text('actor', 'Actor')}
        {isAdmin && text('ipAddress', 'IP address or CIDR', errors.ipAddress)}
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
    </search>
  );
}
