// Short notices at the bottom of the window: at most two at once, an error stays 9 s, others 3 s.
import { useCallback, useRef, useState } from 'react';

export interface Toast {
  id: number;
  tone: 'ok' | 'error' | 'info';
  text: string;
}

export type ToastFn = (tone: Toast['tone'], text: string) => void;

export function useToasts(): { toasts: Toast[]; toast: ToastFn; dismiss: (id: number) => void } {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seq = useRef(0);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const toast = useCallback<ToastFn>(
    (tone, text) => {
      const id = ++seq.current;
      setToasts((t) => [...t.slice(-1), { id, tone, text }]);
      window.setTimeout(() => dismiss(id), tone === 'error' ? 9000 : 3000);
    },
    [dismiss],
  );
  return { toasts, toast, dismiss };
}
