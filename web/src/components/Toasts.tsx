// The toasts at the bottom of the window, each with a dismiss button.
import type { Toast } from '../stores/useToasts';

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  return (
    <div className="lf-toasts" aria-live="polite" role="status">
      {toasts.map((t) => (
        <div key={t.id} className={`lf-toast lf-toast--${t.tone}`}>
          {t.text}
          <button type="button" className="lf-icon-btn" aria-label="Dismiss" onClick={() => onDismiss(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
