/**
 * A modal <dialog>: showModal() moves focus into it, keeps Tab inside and
 * closes on Escape; when it goes away, focus returns to what opened it (or,
 * when that is gone, to the page's heading).
 */
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';

interface Props {
  title: string;
  onClose(): void;
  children: ComponentChildren;
}

export function Dialog({ title, onClose, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const open = useRef(false);
  const closeHandler = useRef(onClose);
  closeHandler.current = onClose;

  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    open.current = true;
    return () => {
      // Closed by the page (not by Escape): its close event must not reach the handler of a dialog that is gone.
      open.current = false;
      if (dialog.open) dialog.close();
      const target = opener?.isConnected ? opener : document.querySelector<HTMLElement>('main h1');
      target?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={() => {
        if (open.current) closeHandler.current();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
