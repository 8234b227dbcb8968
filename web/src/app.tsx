/**
 * The console: signed out, the sign-in form; signed in, the header (who, where
 * to go, sign out) and the page of the current route.
 */
import { Provider } from '@urql/preact';
import { useCallback, useMemo, useState } from 'preact/hooks';
import { createConsoleClient } from './client.ts';
import { Shell } from './components/shell.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { forgetToken, storedToken, storeToken } from './session.ts';

export function App() {
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback((reason?: string) => {
    forgetToken();
    setNotice(reason ?? null);
    setToken(null);
  }, []);
  const client = useMemo(
    () => (token ? createConsoleClient(token, () => signOut('Your token is no longer accepted (revoked or expired): sign in again.')) : null),
    [token, signOut],
  );

  if (!token || !client) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(accepted) => {
          storeToken(accepted);
          setNotice(null);
          setToken(accepted);
        }}
      />
    );
  }
  return (
    <Provider value={client}>
      <Shell onSignOut={signOut} />
    </Provider>
  );
}
