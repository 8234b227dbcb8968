import { useId } from 'preact/hooks';
import { FieldError } from './field-error.tsx';

interface Props {
  label: string;
  value: string;
  onInput(value: string): void;
  error?: string | undefined;
  multiline?: boolean;
  required?: boolean;
  maxLength?: number;
  help?: string;
}

export function TextField({ label, value, onInput, error, multiline = false, required = false, maxLength, help }: Props) {
  const id = useId();
  const describedBy = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    value,
    required,
    maxLength,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={3} onInput={(event) => onInput(event.currentTarget.value)} />
      ) : (
        <input {...common} type="text" autocomplete="off" onInput={(event) => onInput(event.currentTarget.value)} />
      )}
      {help && (
        <p id={`${id}-help`} class="help">
          {help}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
