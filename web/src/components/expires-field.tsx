import { useId } from 'preact/hooks';
import { absoluteTime } from '../format.ts';
import { FieldError } from './field-error.tsx';

/** 'keep' leaves the expiry as it is (editing); the day counts are presets, as GitHub offers them. */
type ExpiryChoice = 'keep' | '7' | '30' | '90' | 'never' | 'custom';
export interface ExpiryValue {
  choice: ExpiryChoice;
  /** yyyy-mm-dd, for 'custom'. */
  date: string;
}

/** The expiry to send: an ISO time, null for never, undefined to leave it unchanged. */
export function expiryOf({ choice, date }: ExpiryValue, now = Date.now()): string | null | undefined {
  if (choice === 'keep') return undefined;
  if (choice === 'never') return null;
  if (choice === 'custom') {
    const [year, month, day] = date.split('-').map(Number);
    if (!year || !month || !day) return undefined;
    // The end of the chosen day, in the viewer's time zone.
    return new Date(year, month - 1, day, 23, 59, 59).toISOString();
  }
  return new Date(now + Number(choice) * 86_400_000).toISOString();
}

interface Props {
  value: ExpiryValue;
  onChange(value: ExpiryValue): void;
  error?: string | undefined;
  /** Editing: offer "keep" with the current expiry. */
  current?: { expiresAt: string | null } | undefined;
}

export function ExpiresField({ value, onChange, error, current }: Props) {
  const id = useId();
  const expiry = expiryOf(value);
  const describedBy = [`${id}-summary`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>Expires</label>
      <select
        id={id}
        value={value.choice}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy}
        onChange={(event) => onChange({ ...value, choice: event.currentTarget.value as ExpiryChoice })}
      >
        {current && <option value="keep">Unchanged</option>}
        <option value="7">In 7 days</option>
        <option value="30">In 30 days</option>
        <option value="90">In 90 days</option>
        <option value="never">Never</option>
        <option value="custom">On a date…</option>
      </select>
      {value.choice === 'custom' && (
        <>
          <label for={`${id}-date`}>Expiry date</label>
          <input id={`${id}-date`} type="date" value={value.date} onInput={(event) => onChange({ ...value, date: event.currentTarget.value })} />
        </>
      )}
      <p id={`${id}-summary`} class="help">
        {value.choice === 'keep'
          ? current?.expiresAt
            ? `Stays ${absoluteTime(current.expiresAt)}.`
            : 'Stays without an expiry.'
          : expiry === null
            ? 'The token never expires.'
            : expiry
              ? `The token expires ${absoluteTime(expiry)}.`
              : 'Choose a date.'}
      </p>
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
