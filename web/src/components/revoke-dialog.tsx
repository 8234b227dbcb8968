import { useMutation } from '@urql/preact';
import { useState } from 'preact/hooks';
import { REVOKE } from '../documents.ts';
import { tokenLabel } from '../format.ts';
import type { TokenRow } from '../types.ts';
import { Dialog } from './dialog.tsx';

interface Props {
  token: TokenRow;
  onClose(): void;
}

export function RevokeDialog({ token, onClose }: Props) {
  const [failure, setFailure] = useState<string | null>(null);
  const [{ fetching }, revoke] = useMutation(REVOKE);

  const confirm = async () => {
    const result = await revoke({ input: { key: token.key, reason: 'revoked in the console' } });
    const answer = result.data?.revokeToken;
    if (answer?.__typename === 'InvalidateTokensPayload') onClose();
    else setFailure(answer && 'message' in answer ? (answer.message ?? 'Not revoked.') : (result.error?.message ?? 'No answer from the server.'));
  };

  return (
    <Dialog title={`Revoke ${tokenLabel(token)}?`} onClose={onClose}>
      <p>Anything using this token stops working at once, and so does every token derived from it. This cannot be undone.</p>
      {failure && (
        <p role="alert" class="error">
          {failure}
        </p>
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={confirm} disabled={fetching}>
          Revoke
        </button>
      </div>
    </Dialog>
  );
}
