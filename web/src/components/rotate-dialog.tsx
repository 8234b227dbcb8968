import { useMutation } from '@urql/preact';
import { useId, useState } from 'preact/hooks';
import { ROTATE } from '../documents.ts';
import { fieldErrors } from '../errors.ts';
import { tokenLabel } from '../format.ts';
import type { TokenRow } from '../types.ts';
import { Dialog } from './dialog.tsx';
import { FormActions } from './form-actions.tsx';

const GRACE_PERIODS: [seconds: number, label: string][] = [
  [0, 'None: the old token stops working now'],
  [3_600, '1 hour'],
  [86_400, '1 day'],
  [7 * 86_400, '7 days'],
];

interface Props {
  token: TokenRow;
  onClose(): void;
  onRotated(secret: string, label: string): void;
}

export function RotateDialog({ token, onClose, onRotated }: Props) {
  const id = useId();
  const [grace, setGrace] = useState(0);
  const [failure, setFailure] = useState<string | null>(null);
  const [{ fetching }, rotate] = useMutation(ROTATE);

  const submit = async (event: Event) => {
    event.preventDefault();
    const result = await rotate({ input: { key: token.key, gracePeriodSeconds: grace } });
    const answer = result.data?.rotateToken;
    if (answer?.__typename === 'RotateTokenPayload') onRotated(answer.secret, tokenLabel(answer.token));
    else setFailure(answer ? (fieldErrors(answer).form ?? answer.message ?? 'Not rotated.') : (result.error?.message ?? 'No answer from the server.'));
  };

  return (
    <Dialog title={`Rotate ${tokenLabel(token)}`} onClose={onClose}>
      <form onSubmit={submit}>
        <p>A new token string replaces this one, with the same name, scopes, expiry and note.</p>
        <div class="field">
          <label for={id}>Grace period</label>
          <select id={id} value={String(grace)} onChange={(event) => setGrace(Number(event.currentTarget.value))} aria-describedby={`${id}-help`}>
            {GRACE_PERIODS.map(([seconds, label]) => (
              <option key={seconds} value={String(seconds)}>
                {label}
              </option>
            ))}
          </select>
          <p id={`${id}-help`} class="help">
            How long the old token keeps working, so that you can replace it where it is used.
          </p>
        </div>
        <FormActions error={failure} onCancel={onClose} submitLabel="Rotate" busy={fetching} />
      </form>
    </Dialog>
  );
}
