/**
 * The dialogs a token list opens (New token, Edit, Rotate, Revoke, and the
 * one-time secret after New token and Rotate), one at a time. The secret lives
 * in this state only while its dialog is open: Done sets it back to nothing.
 */
import { useState } from 'preact/hooks';
import type { TokenRow, Viewer } from '../types.ts';
import { EditTokenDialog } from './edit-token-dialog.tsx';
import { NewTokenDialog } from './new-token-dialog.tsx';
import { RevokeDialog } from './revoke-dialog.tsx';
import { RotateDialog } from './rotate-dialog.tsx';
import { SecretDialog } from './secret-dialog.tsx';

type Open = { kind: 'new' } | { kind: 'edit' | 'rotate' | 'revoke'; token: TokenRow } | { kind: 'secret'; secret: string; label: string } | null;

export type TokenAction = 'edit' | 'rotate' | 'revoke';

export function useTokenActions(viewer: Viewer) {
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  const showSecret = (secret: string, label: string) => setOpen({ kind: 'secret', secret, label });

  const dialog =
    open?.kind === 'new' ? (
      <NewTokenDialog viewer={viewer} onClose={close} onCreated={showSecret} />
    ) : open?.kind === 'edit' ? (
      <EditTokenDialog viewer={viewer} token={open.token} onClose={close} />
    ) : open?.kind === 'rotate' ? (
      <RotateDialog token={open.token} onClose={close} onRotated={showSecret} />
    ) : open?.kind === 'revoke' ? (
      <RevokeDialog token={open.token} onClose={close} />
    ) : open?.kind === 'secret' ? (
      <SecretDialog secret={open.secret} label={open.label} onDone={close} />
    ) : null;

  return {
    dialog,
    openNew: () => setOpen({ kind: 'new' }),
    act: (kind: TokenAction, token: TokenRow) => setOpen({ kind, token }),
  };
}
