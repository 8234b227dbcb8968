import { useMutation } from '@urql/preact';
import { useState } from 'preact/hooks';
import { EDIT } from '../documents.ts';
import { fieldErrors, type FieldErrors } from '../errors.ts';
import { tokenLabel } from '../format.ts';
import type { TokenRow, Viewer } from '../types.ts';
import { Dialog } from './dialog.tsx';
import { FormActions } from './form-actions.tsx';
import { ExpiresField, expiryOf, type ExpiryValue } from './expires-field.tsx';
import { ScopesField } from './scopes-field.tsx';
import { TextField } from './text-field.tsx';

interface Props {
  viewer: Viewer;
  token: TokenRow;
  onClose(): void;
}

const sameScopes = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((scope, index) => scope === b[index]);

/** Edits a USER token; only what changed is sent, so an untouched field stays as it is. */
export function EditTokenDialog({ viewer, token, onClose }: Props) {
  const [name, setName] = useState(token.name ?? '');
  const [scopes, setScopes] = useState<string[]>([...token.scopes]);
  const [expires, setExpires] = useState<ExpiryValue>({ choice: 'keep', date: '' });
  const [note, setNote] = useState(token.note);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [{ fetching }, edit] = useMutation(EDIT);
  // The token's own scopes stay on offer even when the viewer does not hold them (an admin's view, or a narrowed viewer).
  const available = [...new Set([...viewer.scopes, ...token.scopes])].sort();

  const submit = async (event: Event) => {
    event.preventDefault();
    const expiry = expiryOf(expires);
    if (expires.choice === 'custom' && expiry === undefined) {
      setErrors({ expires: 'Choose the date the token expires.' });
      return;
    }
    const input = {
      key: token.key,
      ...(name !== (token.name ?? '') ? { name } : {}),
      ...(!sameScopes(scopes, token.scopes) ? { scopes } : {}),
      ...(expiry !== undefined ? { expires: expiry } : {}),
      ...(note !== token.note ? { note } : {}),
    };
    if (Object.keys(input).length === 1) {
      onClose();
      return;
    }
    const result = await edit({ input });
    const answer = result.data?.editToken;
    if (answer?.__typename === 'EditTokenPayload') onClose();
    else setErrors(answer ? fieldErrors(answer) : { form: result.error?.message ?? 'No answer from the server.' });
  };

  return (
    <Dialog title={`Edit ${tokenLabel(token)}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" value={name} onInput={setName} error={errors.name} required maxLength={64} />
        <ScopesField available={available} selected={scopes} onChange={setScopes} error={errors.scopes} />
        <ExpiresField value={expires} onChange={setExpires} error={errors.expires} current={token} />
        <TextField label="Note" value={note} onInput={setNote} error={errors.note} multiline maxLength={1000} />
        <FormActions error={errors.form} onCancel={onClose} submitLabel="Save" busy={fetching} />
      </form>
    </Dialog>
  );
}
