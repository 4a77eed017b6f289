import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { NodeStatus, WorkersResponse } from '../api/types';
import { useWorkers, workersByNode, WORKERS_POLL_MS } from './useWorkers';

const status = (state: NodeStatus['state'], received: number, emitted: number, errors = 0): NodeStatus => ({ state, received, emitted, errors });

/** Two workers of the demo flow: w1 holds the Feeder's lease, w2 runs the others only. */
const twoWorkers: WorkersResponse = {
  nats: true,
  workers: [
    { worker: 'w1', running: true, nodes: { feeder1: status('running', 0, 10), lambda1: status('running', 6, 6), display1: status('running', 6, 6) } },
    { worker: 'w2', running: true, nodes: { feeder1: status('stopped', 0, 0), lambda1: status('running', 4, 3, 1), display1: status('running', 3, 3) } },
  ],
};

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** Lets the answer of a pending poll arrive and be applied. */
async function settle() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

async function tick(ms = WORKERS_POLL_MS) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe('useWorkers', () => {
  it('counts per node the running workers that run it now', () => {
    const counts = workersByNode([...twoWorkers.workers, { worker: 'w3', running: false, nodes: { lambda1: status('running', 0, 0) } }]);
    expect(Object.fromEntries(counts)).toEqual({ feeder1: 1, lambda1: 2, display1: 2 });
  });

  it('polls every 2 s while enabled and shows the latest reports', async () => {
    const answers: WorkersResponse[] = [{ nats: true, workers: [] }, twoWorkers];
    const fetchWorkers = vi.fn(async () => answers[Math.min(fetchWorkers.mock.calls.length - 1, answers.length - 1)]!);
    const { result } = renderHook(() => useWorkers({ flowId: 'demo', enabled: true, fetchWorkers }));
    await settle();
    expect(fetchWorkers).toHaveBeenCalledTimes(1);
    expect(fetchWorkers).toHaveBeenLastCalledWith('demo');
    expect(result.current.nats).toBe(true);
    expect(result.current.workers).toEqual([]);
    await tick();
    expect(fetchWorkers).toHaveBeenCalledTimes(2);
    expect(result.current.workers.map((w) => w.worker)).toEqual(['w1', 'w2']);
    expect(result.current.byNode.get('lambda1')).toBe(2);
    expect(result.current.byNode.get('feeder1')).toBe(1);
    await tick();
    await tick();
    expect(fetchWorkers).toHaveBeenCalledTimes(4);
  });

  it('stops polling when the server has no broker', async () => {
    const fetchWorkers = vi.fn(async (): Promise<WorkersResponse> => ({ nats: false, workers: [] }));
    const { result } = renderHook(() => useWorkers({ flowId: 'demo', enabled: true, fetchWorkers }));
    await settle();
    expect(result.current.nats).toBe(false);
    await tick(10 * WORKERS_POLL_MS);
    expect(fetchWorkers).toHaveBeenCalledTimes(1);
    expect(result.current.byNode.size).toBe(0);
  });

  it('stops on a 404 (no such route or flow) but keeps polling through a failed poll', async () => {
    const gone = vi.fn(async (): Promise<WorkersResponse> => {
      throw new ApiError(404, 'not found');
    });
    const a = renderHook(() => useWorkers({ flowId: 'demo', enabled: true, fetchWorkers: gone }));
    await settle();
    await tick(10 * WORKERS_POLL_MS);
    expect(gone).toHaveBeenCalledTimes(1);
    expect(a.result.current.nats).toBeNull();
    expect(a.result.current.error).toBe('not found');
    a.unmount();

    let fail = true;
    const flaky = vi.fn(async (): Promise<WorkersResponse> => {
      if (fail) throw new ApiError(0, 'Cannot reach the lambdaflow server');
      return twoWorkers;
    });
    const b = renderHook(() => useWorkers({ flowId: 'demo', enabled: true, fetchWorkers: flaky }));
    await settle();
    expect(b.result.current.error).toMatch(/Cannot reach/);
    fail = false;
    await tick();
    expect(flaky).toHaveBeenCalledTimes(2);
    expect(b.result.current.error).toBeNull();
    expect(b.result.current.workers).toHaveLength(2);
  });

  it('does not poll while disabled, and stops when disabled or unmounted', async () => {
    const fetchWorkers = vi.fn(async () => twoWorkers);
    const { result, rerender, unmount } = renderHook(({ enabled }) => useWorkers({ flowId: 'demo', enabled, fetchWorkers }), { initialProps: { enabled: false } });
    await tick(5 * WORKERS_POLL_MS);
    expect(fetchWorkers).not.toHaveBeenCalled();
    rerender({ enabled: true });
    await settle();
    expect(result.current.workers).toHaveLength(2);
    rerender({ enabled: false });
    expect(result.current.workers).toEqual([]);
    await tick(5 * WORKERS_POLL_MS);
    expect(fetchWorkers).toHaveBeenCalledTimes(1);
    rerender({ enabled: true });
    await settle();
    unmount();
    await tick(5 * WORKERS_POLL_MS);
    expect(fetchWorkers).toHaveBeenCalledTimes(2);
  });

  it('never shows an answer about the flow that was open before', async () => {
    let release: (r: WorkersResponse) => void = () => undefined;
    const fetchWorkers = vi.fn((id: string) =>
      id === 'old' ? new Promise<WorkersResponse>((r) => (release = r)) : Promise.resolve<WorkersResponse>({ nats: true, workers: [] }),
    );
    const { result, rerender } = renderHook(({ flowId }) => useWorkers({ flowId, enabled: true, fetchWorkers }), { initialProps: { flowId: 'old' } });
    await settle();
    rerender({ flowId: 'new' });
    await settle();
    release(twoWorkers);
    await settle();
    expect(result.current.workers).toEqual([]);
    expect(result.current.nats).toBe(true);
  });
});
