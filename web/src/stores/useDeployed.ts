// The version of the open flow that runs (GET /api/flows/{id}/deploy), kept fresh by the caller
// on (re)connection and after start, stop and deploy.
import { useCallback, useRef, useState } from 'react';
import { api } from '../api/client';
import type { FlowDocument } from '../api/types';

export function useDeployed(flowId: string): { deployed: FlowDocument | null; refresh: () => Promise<void>; forget: () => void } {
  const [deployed, setDeployed] = useState<FlowDocument | null>(null);
  const current = useRef(flowId);
  current.current = flowId;
  const refresh = useCallback(async () => {
    const id = current.current;
    if (!id) return;
    try {
      const v = await api.deployed(id);
      if (current.current === id) setDeployed(v.running ? v.flow : null);
    } catch {
      // an unsaved flow has no deployed version
      if (current.current === id) setDeployed(null);
    }
  }, []);
  const forget = useCallback(() => setDeployed(null), []);
  return { deployed, refresh, forget };
}
