import { useMutation } from '@urql/preact';
import { useState } from 'preact/hooks';
import { GENERATE } from '../documents.ts';
import { fieldErrors, type FieldErrors } from '../errors.ts';
import type { Viewer } from '../types.ts';
import { Dialog } from './dialog.tsx';
import { FormActions } from './form-actions.tsx';
import { ExpiresField, expiryOf, type ExpiryValue } from './expires-field.tsx';
import { ScopesField } from './scopes-field.tsx';
import { TextField } from './text-field.tsx';

interface Props {
  viewer: Viewer;
  onClose(): void;
  onCreated(secret: string, label: string): void;
}

export function NewTokenDialog({ viewer, onClose, onCreated }: Props) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [expires, setExpires] = useState<ExpiryValue>({ choice: '30', date: '' });
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [{ fetching }, generate] = useMutation(GENERATE);

  const submit = async (event: Event) => {
    event.preventDefault();
    const expiry = expiryOf(expires);
    if (expires.choice === 'custom' && expiry === undefined) {
      setErrors({ expires: 'Choose the date the token expires.' });
      return;
    }
    const result = await generate({ input: { name, scopes, note, ...(expiry ? { expires: expiry } : {}) } });
    const answer = result.data?.generateToken;
    if (answer?.__typename === 'GenerateTokenPayload') onCreated(answer.secret, answer.token.name ?? name);
    else setErrors(answer ? fieldErrors(answer) : { form: result.error?.message ?? 'No answer from the server.' });
  };

  return (
    <Dialog title="New token" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField
          label="Name"
          value={name}
          onInput={setName}
          error={errors.name}
          required
          maxLength={64}
          help="What the token is for, such as “CI deploys”."
        />
        <ScopesField available={viewer.scopes} selected={scopes} onChange={setScopes} error={errors.scopes} />
        <ExpiresField value={expires} onChange={setExpires} error={errors.expires} />
        <TextField label="Note" value={note} onInput={setNote} error={errors.note} multiline maxLength={1000} />
        <FormActions error={errors.form} onCancel={onClose} submitLabel="Create" busy={fetching} />
      </form>
    </Dialog>
  );
}
