// A small snapshot-history store for undo/redo (React Flow ships none in its free edition).
//
// The editor keeps its live state elsewhere; before each user edit it calls `record` with the
// snapshot *before* the edit. Edits that arrive in a burst (typing in a field) share a coalesce
// key and become one undo step. A drag records once at its start.

export interface History<T> {
  past: T[];
  future: T[];
  lastKey: string | null;
  lastAt: number;
}

export interface RecordOptions {
  /** Edits with the same key within `windowMs` of each other become one undo step. */
  coalesceKey?: string;
  now?: number;
  windowMs?: number;
}

export const HISTORY_LIMIT = 200;

export function emptyHistory<T>(): History<T> {
  return { past: [], future: [], lastKey: null, lastAt: 0 };
}

export function record<T>(h: History<T>, before: T, opts: RecordOptions = {}): History<T> {
  const now = opts.now ?? Date.now();
  const windowMs = opts.windowMs ?? 1500;
  const key = opts.coalesceKey ?? null;
  if (key !== null && h.lastKey === key && now - h.lastAt <= windowMs && h.past.length > 0) {
    return { ...h, future: [], lastAt: now };
  }
  const past = [...h.past, before];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, future: [], lastKey: key, lastAt: now };
}

/** Ends any coalescing burst, so the next edit starts a new undo step. */
export function seal<T>(h: History<T>): History<T> {
  return h.lastKey === null ? h : { ...h, lastKey: null };
}

export function canUndo<T>(h: History<T>): boolean {
  return h.past.length > 0;
}

export function canRedo<T>(h: History<T>): boolean {
  return h.future.length > 0;
}

/**
 * Steps back. Entries equal to `current` (a drag that moved nothing) are skipped.
 * Returns null when there is nothing to undo.
 */
export function undo<T>(h: History<T>, current: T, equals: (a: T, b: T) => boolean): { history: History<T>; snapshot: T } | null {
  const past = [...h.past];
  while (past.length > 0) {
    const snap = past.pop()!;
    if (equals(snap, current)) continue;
    return { history: { past, future: [...h.future, current], lastKey: null, lastAt: 0 }, snapshot: snap };
  }
  return null;
}

export function redo<T>(h: History<T>, current: T, equals: (a: T, b: T) => boolean): { history: History<T>; snapshot: T } | null {
  const future = [...h.future];
  while (future.length > 0) {
    const snap = future.pop()!;
    if (equals(snap, current)) continue;
    return { history: { past: [...h.past, current], future, lastKey: null, lastAt: 0 }, snapshot: snap };
  }
  return null;
}
