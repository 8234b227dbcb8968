import { useState } from 'preact/hooks';
import { createConsoleClient, isUnauthorized } from '../client.ts';
import { VIEWER } from '../documents.ts';

interface Props {
  /** Why the last session ended, if it did not end by Sign out. */
  notice: string | null;
  onSignedIn(token: string): void;
}

export function SignIn({ notice, onSignedIn }: Props) {
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setFailure('Paste a token to sign in.');
      return;
    }
    setBusy(true);
    setFailure(null);
    // The token is kept only once the server accepted it.
    const result = await createConsoleClient(candidate).query(VIEWER, {}, { requestPolicy: 'network-only' }).toPromise();
    setBusy(false);
    if (result.data?.viewer) {
      setToken('');
      onSignedIn(candidate);
    } else if (isUnauthorized(result.error)) {
      setFailure('That token was not accepted: it is unknown, revoked or expired.');
    } else {
      setFailure(`Could not sign in: ${result.error?.message ?? 'no answer from the server'}.`);
    }
  };

  return (
    <main class="sign-in">
      <h1>Tessera</h1>
      <p>Sign in with an API token to manage your tokens and see their history.</p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-describedby="token-help">
        <label for="sign-in-token">Token</label>
        <input
          id="sign-in-token"
          type="text"
          name="token"
          autocomplete="off"
          autoCapitalize="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          aria-invalid={failure ? 'true' : undefined}
        />
        <p id="token-help" class="help">
          Kept in this tab only, until you sign out or close it. Mint one with <code>tessera token create</code>.
        </p>
        {failure && (
          <p class="error" role="alert">
            {failure}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
