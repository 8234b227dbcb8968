import { useId } from 'preact/hooks';
import { FieldError } from './field-error.tsx';

interface Props {
  /** The scopes one may choose: the viewer's own. */
  available: readonly string[];
  selected: readonly string[];
  onChange(selected: string[]): void;
  error?: string | undefined;
}

/** One checkbox per scope, labelled by the scope, in a group named Scopes. */
export function ScopesField({ available, selected, onChange, error }: Props) {
  const id = useId();
  const toggle = (scope: string, checked: boolean) =>
    onChange(checked ? [...new Set([...selected, scope])].sort() : selected.filter((candidate) => candidate !== scope));
  return (
    <fieldset class="field scopes" aria-describedby={error ? `${id}-error` : undefined} aria-invalid={error ? 'true' : undefined}>
      <legend>Scopes</legend>
      {available.length === 0 && <p class="help">Your token has no scopes to give.</p>}
      {available.map((scope) => (
        <label key={scope} class="check">
          <input type="checkbox" checked={selected.includes(scope)} onChange={(event) => toggle(scope, event.currentTarget.checked)} />
          <span>{scope}</span>
        </label>
      ))}
      <FieldError id={`${id}-error`} message={error} />
    </fieldset>
  );
}
