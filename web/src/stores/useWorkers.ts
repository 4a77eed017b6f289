// The workers running the open flow over JetStream (`GET /api/flows/{id}/workers`), polled every
// 2 s while the flow is open, saved and has a JetStream route. Polling stops for good (until
// another flow opens or the flow changes) when the server says it has no broker, or does not know
// the route (an older server, or a flow it does not hold).
import { useEffect, useMemo, useState } from 'react';
import { ApiError, api, describeError } from '../api/client';
import type { WorkerReport, WorkersResponse } from '../api/types';

export const WORKERS_POLL_MS = 2000;

export interface WorkersState {
  /** null until the server answered (or when it cannot say). */
  nats: boolean | null;
  workers: WorkerReport[];
  /** The last failed poll's reason (polling goes on unless the server cannot answer at all). */
  error: string | null;
}

const EMPTY: WorkersState = { nats: null, workers: [], error: null };

/** Per node, how many running workers run it now (a source runs only where its lease is). */
export function workersByNode(workers: readonly WorkerReport[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of workers) {
    if (!w.running) continue;
    for (const [node, status] of Object.entries(w.nodes)) {
      if (status.state === 'running' || status.state === 'starting') counts.set(node, (counts.get(node) ?? 0) + 1);
    }
  }
  return counts;
}

export interface UseWorkersOptions {
  flowId: string;
  /** Poll only while true: the flow is open, saved, and has a JetStream route. */
  enabled: boolean;
  fetchWorkers?: (flowId: string) => Promise<WorkersResponse>;
  intervalMs?: number;
}

export function useWorkers({ flowId, enabled, fetchWorkers = api.workers, intervalMs = WORKERS_POLL_MS }: UseWorkersOptions): WorkersState & { byNode: Map<string, number> } {
  const [state, setState] = useState<WorkersState>(EMPTY);

  useEffect(() => {
    setState(EMPTY);
    if (!enabled || !flowId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      let again = true;
      try {
        const answer = await fetchWorkers(flowId);
        if (stopped) return;
        setState({ nats: answer.nats, workers: answer.nats ? answer.workers : [], error: null });
        again = answer.nats;
      } catch (e) {
        if (stopped) return;
        // 404: a server without the route, or a flow it does not hold; 401 is the token dialog's
        const final = e instanceof ApiError && (e.status === 404 || e.status === 401);
        setState((s) => ({ ...s, error: describeError(e) }));
        again = !final;
      }
      if (again && !stopped) timer = setTimeout(() => void poll(), intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [flowId, enabled, fetchWorkers, intervalMs]);

  const byNode = useMemo(() => workersByNode(state.workers), [state.workers]);
  return { ...state, byNode };
}
