/** The end of a dialog's form: what went wrong that no field names, then Cancel and the form's own action. */
export function FormActions({ error, onCancel, submitLabel, busy }: { error?: string | null; onCancel: () => void; submitLabel: string; busy: boolean }) {
  return (
    <>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
