import type { TokenRow } from '../types.ts';
import type { TokenAction } from './token-actions.tsx';

interface Props {
  token: TokenRow;
  onAction(kind: TokenAction, token: TokenRow): void;
}

/** What can still be done to a token: only USER tokens are editable; a token that no longer works can only be looked at. */
export function RowActions({ token, onAction }: Props) {
  if (token.status !== 'ACTIVE') return null;
  // A token already rotated works out its grace period; it can still be revoked early.
  const replaced = token.replacedBy != null;
  return (
    <div class="row-actions">
      {token.tokenType === 'USER' && !replaced && (
        <button type="button" class="secondary" onClick={() => onAction('edit', token)}>
          Edit
        </button>
      )}
      {!replaced && (
        <button type="button" class="secondary" onClick={() => onAction('rotate', token)}>
          Rotate
        </button>
      )}
      <button type="button" class="danger" onClick={() => onAction('revoke', token)}>
        Revoke
      </button>
    </div>
  );
}
