// Follows the open flow's event stream (`GET /api/flows/{id}/events`) into the runtime reducer:
// each (re)connection re-reads status, Display messages and the deployed version; a new run
// re-reads the nodes that keep messages (sendOnStart); their limits follow their `maxMessages`.
import { useEffect, useRef, type Dispatch, type MutableRefObject } from 'react';
import { api } from '../api/client';
import type { ComponentDescriptor, FlowEvent } from '../api/types';
import { capabilitiesOf } from '../lib/capabilities';
import { getAt } from '../lib/pointer';
import type { DesignerNode } from '../lib/model';
import { parseFlowEvent, SSE_EVENTS, type RuntimeAction, type RuntimeState } from '../lib/runtime';

interface LiveEventsOptions {
  flowId: string;
  /** Only a flow the server holds has a stream. */
  onServer: boolean;
  nodes: DesignerNode[];
  serverNodes: string[];
  /** The descriptors by type: which nodes keep messages (`showsMessages`). */
  components: ReadonlyMap<string, ComponentDescriptor>;
  runtimeRef: MutableRefObject<RuntimeState>;
  rdispatch: Dispatch<RuntimeAction>;
  /** A flow started or stopped (the flows list shows its state). */
  onFlowChange: () => void;
  refreshDeployed: () => Promise<void>;
  /** Every Display message and error record, for the debug sidebar. */
  onDebug: (event: FlowEvent) => void;
}

export function useLiveEvents(o: LiveEventsOptions): void {
  const { flowId, onServer, rdispatch, runtimeRef } = o;
  const latest = useRef(o);
  latest.current = o;
  /** Re-reads the kept messages of the open stream's flow (null while no stream is open). */
  const rereadMessages = useRef<(() => Promise<void>) | null>(null);

  const keepsMessages = (type: string) => capabilitiesOf(o.components.get(type)).showsMessages;
  // a node's limit: its `maxMessages`, else the schema's default for it, else 10
  const limitOf = (n: DesignerNode) => {
    const own = n.data.config.maxMessages;
    const schemaDefault = getAt(o.components.get(n.data.type)?.schema, '/properties/maxMessages/default');
    return typeof own === 'number' ? own : typeof schemaDefault === 'number' ? schemaDefault : 10;
  };
  const displayLimitsKey = o.nodes
    .filter((n) => keepsMessages(n.data.type))
    .map((n) => `${n.id}=${limitOf(n)}`)
    .join(',');
  useEffect(() => {
    const limits: Record<string, number> = {};
    for (const part of displayLimitsKey.split(',').filter(Boolean)) {
      const [id, n] = part.split('=');
      limits[id!] = Number(n);
    }
    rdispatch({ type: 'limits', limits });
  }, [displayLimitsKey, rdispatch]);

  // which nodes keep messages is known once the descriptors are: read theirs if they came late
  useEffect(() => {
    void rereadMessages.current?.();
  }, [o.components]);

  useEffect(() => {
    if (!flowId || !onServer || typeof EventSource === 'undefined') return;
    let closed = false;
    const es = new EventSource(api.eventsUrl(flowId));
    const sync = async () => {
      void latest.current.refreshDeployed();
      try {
        const asOf = runtimeRef.current.seq;
        const status = await api.status(flowId);
        if (!closed) rdispatch({ type: 'status', status, asOf });
      } catch {
        // a flow never started may have no status yet
      }
      await readMessages();
    };
    // only nodes the server knows: one added since the last save has no messages yet
    const readMessages = async () => {
      const { nodes, serverNodes, components } = latest.current;
      for (const n of nodes.filter((x) => capabilitiesOf(components.get(x.data.type)).showsMessages && serverNodes.includes(x.id))) {
        try {
          const res = await api.messages(flowId, n.id);
          if (!closed) rdispatch({ type: 'messages', node: n.id, items: res.messages, total: res.total });
        } catch {
          // not yet known to the server (added since the last save)
        }
      }
    };
    // The stream ends when a run ends and EventSource reconnects within seconds; only a longer
    // gap is shown as "offline". Each (re)connection re-reads status and messages.
    let offlineTimer: number | undefined;
    es.onopen = () => {
      window.clearTimeout(offlineTimer);
      offlineTimer = undefined;
      rereadMessages.current = readMessages;
      rdispatch({ type: 'connected', connected: true });
      void sync();
    };
    es.onerror = () => {
      if (offlineTimer === undefined) offlineTimer = window.setTimeout(() => rdispatch({ type: 'connected', connected: false }), 5000);
    };
    for (const name of SSE_EVENTS) {
      es.addEventListener(name, (ev) => {
        const parsed = parseFlowEvent(name, (ev as MessageEvent<string>).data);
        if (!parsed) return;
        rdispatch({ type: 'event', event: parsed });
        if (parsed.kind === 'message' || parsed.kind === 'error') latest.current.onDebug(parsed);
        if (parsed.kind === 'flow') {
          latest.current.onFlowChange();
          void latest.current.refreshDeployed();
          // a new run starts with empty Displays: read what it has already (sendOnStart)
          if (parsed.data.state === 'running') void sync();
        }
      });
    }
    return () => {
      closed = true;
      rereadMessages.current = null;
      window.clearTimeout(offlineTimer);
      es.close();
      rdispatch({ type: 'connected', connected: false });
    };
  }, [flowId, onServer, rdispatch, runtimeRef]);
}
