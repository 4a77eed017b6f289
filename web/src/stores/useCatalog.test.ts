import { renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { descriptors } from '../test/fixtures';
import { useCatalog } from './useCatalog';

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('useCatalog', () => {
  it('loads the components, indexed by type, and the stored flows', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url === '/api/components' ? json(descriptors) : json([{ id: 'a', name: 'A', rev: '1', state: 'stopped' }]))),
    );
    const onError = vi.fn();
    const { result } = renderHook(() => useCatalog(onError));
    await waitFor(() => expect(result.current.flows).not.toBeNull());
    await waitFor(() => expect(result.current.components).toHaveLength(3));
    expect([...result.current.byType.keys()]).toEqual(['feeder', 'lambda', 'display']);
    expect(result.current.flows?.map((f) => f.id)).toEqual(['a']);
    expect(onError).not.toHaveBeenCalled();
  });

  it('says what could not be loaded, and hands the failure on (a 401 asks for a token)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ error: 'missing token', details: [] }, 401)));
    const onError = vi.fn();
    const { result } = renderHook(() => useCatalog(onError));
    await waitFor(() => expect(result.current.componentsError).toBe('Could not load components: missing token'));
    await waitFor(() => expect(result.current.flowsError).toBe('Could not list flows: missing token'));
    expect(onError).toHaveBeenCalledTimes(2);
  });
});
