// What the server offers: the component descriptors (loaded once) and the list of stored flows.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, describeError } from '../api/client';
import type { ComponentDescriptor, FlowSummary } from '../api/types';

export interface Catalog {
  components: ComponentDescriptor[];
  byType: ReadonlyMap<string, ComponentDescriptor>;
  componentsError: string | null;
  /** null until the first answer. */
  flows: FlowSummary[] | null;
  flowsError: string | null;
  refreshFlows: () => Promise<void>;
}

/** `onError` sees every failure first (a 401 asks for a token). */
export function useCatalog(onError: (e: unknown) => void): Catalog {
  const [components, setComponents] = useState<ComponentDescriptor[]>([]);
  const [componentsError, setComponentsError] = useState<string | null>(null);
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [flowsError, setFlowsError] = useState<string | null>(null);

  const refreshFlows = useCallback(async () => {
    try {
      setFlows(await api.listFlows());
      setFlowsError(null);
    } catch (e) {
      onError(e);
      setFlowsError(`Could not list flows: ${describeError(e)}`);
    }
  }, [onError]);

  useEffect(() => {
    api
      .components()
      .then((c) => {
        setComponents(c);
        setComponentsError(null);
      })
      .catch((e) => {
        onError(e);
        setComponentsError(`Could not load components: ${describeError(e)}`);
      });
    void refreshFlows();
  }, [refreshFlows, onError]);

  const byType = useMemo(() => new Map(components.map((c) => [c.type, c])), [components]);
  return { components, byType, componentsError, flows, flowsError, refreshFlows };
}
