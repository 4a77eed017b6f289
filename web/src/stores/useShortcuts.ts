// The designer's keys: Ctrl+S save, Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y) undo / redo, F2 rename,
// Escape deselect, Ctrl+A select all, Ctrl+C / V / D copy / paste / duplicate. Keys typed in a
// field are the field's, except Ctrl+S; none act while a dialog is open.
import { useEffect, useRef, type Dispatch, type MutableRefObject } from 'react';
import { fragmentOf, type Fragment } from '../lib/clipboard';
import { toFlowDocument, type EditorAction, type EditorState } from '../lib/editor';
import type { ToastFn } from './useToasts';

// inputs without text of their own to undo: a key pressed on them is the designer's
const CHOICE_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file']);

export function isEditable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.tagName === 'INPUT' && CHOICE_INPUTS.has((el as HTMLInputElement).type)) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

interface ShortcutDeps {
  editorRef: MutableRefObject<EditorState>;
  dispatch: Dispatch<EditorAction>;
  /** A flow is open. */
  open: boolean;
  /** A dialog is open: keys belong to it. */
  dialogOpen: boolean;
  save: () => void;
  /** F2 on the inspected node: show its name field, selected. */
  rename: () => void;
  toast: ToastFn;
}

export function useShortcuts(deps: ShortcutDeps): void {
  const latest = useRef(deps);
  latest.current = deps;
  const clipboard = useRef<{ fragment: Fragment; pasted: number } | null>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { editorRef, dispatch, open, dialogOpen, save, rename, toast } = latest.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        if (open) save();
        return;
      }
      if (isEditable(e.target) || dialogOpen) return;
      const selected = editorRef.current.nodes.filter((n) => n.selected);
      if (mod && key === 'z' && !e.shiftKey) {
        e.preventDefault();
        dispatch({ type: 'undo' });
      } else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) {
        e.preventDefault();
        dispatch({ type: 'redo' });
      } else if (e.key === 'F2' && selected.length === 1) {
        e.preventDefault();
        rename();
      } else if (e.key === 'Escape' && (selected.length > 0 || editorRef.current.edges.some((ed) => ed.selected))) {
        dispatch({ type: 'select', nodeIds: [] });
      } else if (open && mod && key === 'a') {
        e.preventDefault();
        dispatch({ type: 'selectAll' });
      } else if (open && mod && (key === 'c' || key === 'd') && selected.length > 0) {
        e.preventDefault();
        const piece = fragmentOf(toFlowDocument(editorRef.current), new Set(selected.map((n) => n.id)));
        if (key === 'd') {
          dispatch({ type: 'paste', fragment: piece, offset: 40 });
          return;
        }
        clipboard.current = { fragment: piece, pasted: 0 };
        void navigator.clipboard?.writeText(JSON.stringify(piece, null, 2)).catch(() => undefined);
        toast('info', `Copied ${piece.nodes.length} node${piece.nodes.length === 1 ? '' : 's'}.`);
      } else if (open && mod && key === 'v' && clipboard.current) {
        e.preventDefault();
        clipboard.current.pasted += 1;
        dispatch({ type: 'paste', fragment: clipboard.current.fragment, offset: 40 * clipboard.current.pasted });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
