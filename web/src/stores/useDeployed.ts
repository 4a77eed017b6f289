// The version of the open flow that runs (GET /api/flows/{id}/deploy), kept fresh by the caller
// on (re)connection and after start, stop and deploy.
import { useCallback, useRef, useState } from 'react';
import { api } from '../api/client';
import type { FlowDocument } from '../api/types';

export function useDeployed(flowId: string): { deployed: FlowDocument | null; refresh: () => Promise<void>; forget: () => void } {
  const [deployed, setDeployed] = useState<FlowDocument | null>(null);
  const current = useRef(flowId);
  current.current = flowId;
  // answers can cross: one to an older request never overwrites a newer one's
  const sent = useRef(0);
  const applied = useRef(0);
  const refresh = useCallback(async () => {
    const id = current.current;
    if (!id) return;
    const seq = ++sent.current;
    let next: FlowDocument | null = null;
    try {
      const v = await api.deployed(id);
      next = v.running ? v.flow : null;
    } catch {
      // an unsaved flow has no deployed version
    }
    if (current.current !== id || seq < applied.current) return;
    applied.current = seq;
    setDeployed(next);
  }, []);
  const forget = useCallback(() => setDeployed(null), []);
  return { deployed, refresh, forget };
}
