import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, emptyHistory, record, redo, seal, undo } from './history';

const eq = (a: number, b: number) => a === b;

describe('undo/redo history', () => {
  it('undoes and redoes in order', () => {
    let h = emptyHistory<number>();
    h = record(h, 0); // 0 → 1
    h = record(h, 1); // 1 → 2
    let current = 2;
    const u1 = undo(h, current, eq)!;
    expect(u1.snapshot).toBe(1);
    current = u1.snapshot;
    const u2 = undo(u1.history, current, eq)!;
    expect(u2.snapshot).toBe(0);
    expect(canUndo(u2.history)).toBe(false);
    expect(undo(u2.history, 0, eq)).toBeNull();
    const r1 = redo(u2.history, 0, eq)!;
    expect(r1.snapshot).toBe(1);
    const r2 = redo(r1.history, 1, eq)!;
    expect(r2.snapshot).toBe(2);
    expect(canRedo(r2.history)).toBe(false);
  });

  it('a new edit clears the redo branch', () => {
    let h = record(emptyHistory<number>(), 0);
    const u = undo(h, 1, eq)!;
    h = record(u.history, 0);
    expect(canRedo(h)).toBe(false);
  });

  it('coalesces a burst of edits with the same key into one step', () => {
    let h = emptyHistory<string>();
    h = record(h, '', { coalesceKey: 'config:lambda1', now: 1000 });
    h = record(h, 'h', { coalesceKey: 'config:lambda1', now: 1200 });
    h = record(h, 'he', { coalesceKey: 'config:lambda1', now: 1400 });
    expect(h.past).toEqual(['']);
    h = record(h, 'hel', { coalesceKey: 'config:lambda2', now: 1500 });
    expect(h.past).toEqual(['', 'hel']);
    h = record(h, 'hell', { coalesceKey: 'config:lambda2', now: 9000 });
    expect(h.past).toEqual(['', 'hel', 'hell']);
  });

  it('seal ends a burst', () => {
    let h = record(emptyHistory<number>(), 0, { coalesceKey: 'k', now: 1 });
    h = seal(h);
    h = record(h, 1, { coalesceKey: 'k', now: 2 });
    expect(h.past).toEqual([0, 1]);
  });

  it('skips steps that change nothing (a click that did not move a node)', () => {
    let h = record(emptyHistory<number>(), 0);
    h = record(h, 5);
    const u = undo(h, 5, eq)!;
    expect(u.snapshot).toBe(0);
  });
});
