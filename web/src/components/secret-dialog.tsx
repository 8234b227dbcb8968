import { useId, useState } from 'preact/hooks';
import { Dialog } from './dialog.tsx';

interface Props {
  secret: string;
  /** Which token the secret is for. */
  label: string;
  /** Done or Escape: the owner drops the secret from its state. */
  onDone(): void;
}

/** The one time a secret is shown: read-only, with Copy; after Done it is gone from the page. */
export function SecretDialog({ secret, label, onDone }: Props) {
  const id = useId();
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <Dialog title="Copy your new token" onClose={onDone}>
      <p id={`${id}-warning`}>
        This is the token string for <strong>{label}</strong>. Copy it now: it is not stored and cannot be shown again.
      </p>
      <div class="field">
        <label for={id}>Secret</label>
        <input
          id={id}
          class="secret"
          type="text"
          readOnly
          value={secret}
          autocomplete="off"
          spellcheck={false}
          aria-describedby={`${id}-warning`}
          onFocus={(event) => event.currentTarget.select()}
        />
      </div>
      <p role="status" class="help">
        {copied === 'copied' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy: select the text and copy it yourself.' : ''}
      </p>
      <div class="actions">
        <button type="button" class="secondary" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
