// A question with a few answers: Cancel first, then each choice (danger ones drawn red).
import type { ReactNode } from 'react';
import { Dialog } from './Dialog';

export interface Choice {
  label: string;
  onChoose: () => void;
  danger?: boolean;
  testId?: string;
}

interface ConfirmDialogProps {
  title: string;
  tone: 'danger' | 'warning';
  children: ReactNode;
  choices: Choice[];
  onCancel: () => void;
  cancelLabel?: string;
  /** Where Cancel stands: before the choices (default) or after them. */
  cancelLast?: boolean;
}

export function ConfirmDialog({ title, tone, children, choices, onCancel, cancelLabel = 'Cancel', cancelLast = false }: ConfirmDialogProps) {
  const cancel = (
    <button key="cancel" type="button" className="lf-btn" onClick={onCancel}>
      {cancelLabel}
    </button>
  );
  const buttons = choices.map((c) => (
    <button key={c.label} type="button" className={`lf-btn${c.danger ? ' lf-btn--danger' : ''}`} onClick={c.onChoose} data-testid={c.testId}>
      {c.label}
    </button>
  ));
  return (
    <Dialog title={title} tone={tone} onCancel={onCancel} actions={cancelLast ? [...buttons, cancel] : [cancel, ...buttons]}>
      {children}
    </Dialog>
  );
}
