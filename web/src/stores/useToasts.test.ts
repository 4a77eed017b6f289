import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useToasts } from './useToasts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('useToasts', () => {
  it('keeps the two latest toasts and lets one be dismissed', () => {
    const { result } = renderHook(() => useToasts());
    act(() => {
      result.current.toast('ok', 'one');
      result.current.toast('info', 'two');
      result.current.toast('error', 'three');
    });
    expect(result.current.toasts.map((t) => t.text)).toEqual(['two', 'three']);
    act(() => result.current.dismiss(result.current.toasts[0]!.id));
    expect(result.current.toasts.map((t) => t.text)).toEqual(['three']);
  });

  it('lets a notice go after 3 s and an error after 9 s', () => {
    const { result } = renderHook(() => useToasts());
    act(() => {
      result.current.toast('error', 'broken');
      result.current.toast('ok', 'saved');
    });
    act(() => vi.advanceTimersByTime(3000));
    expect(result.current.toasts.map((t) => t.text)).toEqual(['broken']);
    act(() => vi.advanceTimersByTime(6000));
    expect(result.current.toasts).toEqual([]);
  });
});
