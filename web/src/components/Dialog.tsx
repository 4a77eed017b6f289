// A small accessible modal: focus moves in, Escape cancels, focus returns on close.
import { useEffect, useRef, type ReactNode } from 'react';

interface DialogProps {
  title: string;
  children: ReactNode;
  actions: ReactNode;
  onCancel: () => void;
  tone?: 'default' | 'danger' | 'warning';
}

export function Dialog({ title, children, actions, onCancel, tone = 'default' }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('button, [href], input, select, textarea');
    first?.focus();
    return () => previous?.focus?.();
  }, []);
  return (
    <div
      className="lf-modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onCancel();
      }}
    >
      <div
        ref={ref}
        className={`lf-modal lf-modal--${tone}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby="lf-modal-title"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onCancel();
          }
        }}
      >
        <h2 id="lf-modal-title" className="lf-modal-title">
          {title}
        </h2>
        <div className="lf-modal-body">{children}</div>
        <div className="lf-modal-actions">{actions}</div>
      </div>
    </div>
  );
}
