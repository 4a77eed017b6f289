// Live run state of the open flow, fed by `GET /api/flows/{id}/events` (SSE) and by the
// status/messages routes. A plain reducer so that it can be tested without a server.
import type { FlowEvent, FlowState, FlowStatus, JsonObject, Message, NodeStatus } from '../api/types';

export interface DisplayLog {
  items: Message[];
  /** Every message ever received (the server's `total`), not only those kept. */
  total: number;
}

export interface RuntimeState {
  flowState: FlowState | 'unknown';
  nodes: Record<string, NodeStatus>;
  messages: Record<string, DisplayLog>;
  errors: Record<string, JsonObject[]>;
  /** How many messages each Display keeps (its `maxMessages`; 0 = unlimited). */
  limits: Record<string, number>;
  connected: boolean;
  /** Counts the status and flow events applied; a request notes it when it is sent. */
  seq: number;
  /** The `seq` of the last event about each node (and `flow` for the flow's own state). */
  lastEvent: Record<string, number>;
}

export type RuntimeAction =
  | { type: 'reset' }
  | { type: 'event'; event: FlowEvent }
  /**
   * A full status document (start/stop answers, GET status). `asOf` is the runtime's `seq` when
   * the request was sent: events that arrived since are newer than the document and win.
   */
  | { type: 'status'; status: FlowStatus; asOf?: number }
  | { type: 'messages'; node: string; items: Message[]; total: number }
  | { type: 'clear'; node: string }
  | { type: 'limits'; limits: Record<string, number> }
  | { type: 'connected'; connected: boolean };

export const ERROR_RECORDS_KEPT = 20;
/** The SSE event names the designer follows (docs/api.md); `error` is EventSource's own. */
export const SSE_EVENTS = ['status', 'message', 'errorRecord', 'flow'] as const;
/** `lastEvent` key of the flow's own state (node ids cannot contain a space). */
const FLOW_KEY = ' flow';
/** Cap for "unlimited" Displays, so that a long run cannot exhaust the browser. */
export const UNLIMITED_CAP = 1000;

export function initialRuntime(): RuntimeState {
  return { flowState: 'unknown', nodes: {}, messages: {}, errors: {}, limits: {}, connected: false, seq: 0, lastEvent: {} };
}

function keepLast<T>(items: T[], limit: number): T[] {
  const cap = limit <= 0 ? UNLIMITED_CAP : Math.min(limit, UNLIMITED_CAP);
  return items.length > cap ? items.slice(items.length - cap) : items;
}

function statusOf(data: { node: string } & NodeStatus): NodeStatus {
  const { node: _n, ...rest } = data;
  void _n;
  return rest;
}

/** Whether moving to `next` starts a new run (the server's Displays and counters start empty). */
function startsRun(state: RuntimeState, next: FlowState | 'unknown'): boolean {
  return next === 'running' && state.flowState !== 'running';
}

/**
 * What a new run starts with: no Display messages and no error records, as on the server (node
 * statuses are replaced by the run's own, which the start answer and the stream both carry).
 */
function freshRun(state: RuntimeState): RuntimeState {
  return { ...state, messages: {}, errors: {} };
}

/**
 * The badge of a node: its reported state, or, for a node the running flow does not have (added
 * or renamed since it was deployed), `not deployed` — never a `starting` that nothing will end.
 */
export function nodeBadge(state: RuntimeState, nodeId: string, deployed: boolean): string {
  const st = state.nodes[nodeId];
  if (st) return st.state;
  if (state.flowState !== 'running') return 'idle';
  return deployed ? 'starting' : 'not deployed';
}

export function runtimeReducer(state: RuntimeState, action: RuntimeAction): RuntimeState {
  switch (action.type) {
    case 'reset':
      return { ...initialRuntime(), limits: state.limits, seq: state.seq };
    case 'connected':
      return state.connected === action.connected ? state : { ...state, connected: action.connected };
    case 'limits':
      return { ...state, limits: action.limits };
    case 'status': {
      const asOf = action.asOf;
      const newer = (key: string) => asOf !== undefined && (state.lastEvent[key] ?? 0) > asOf;
      const flowState = newer(FLOW_KEY) ? state.flowState : action.status.state;
      const base = startsRun(state, flowState) ? freshRun(state) : state;
      const nodes = { ...base.nodes };
      for (const [id, st] of Object.entries(action.status.nodes ?? {})) if (!newer(id)) nodes[id] = st;
      return { ...base, flowState, nodes };
    }
    case 'messages':
      return {
        ...state,
        messages: {
          ...state.messages,
          [action.node]: { items: keepLast(action.items, state.limits[action.node] ?? 10), total: action.total },
        },
      };
    case 'clear':
      return { ...state, messages: { ...state.messages, [action.node]: { items: [], total: 0 } } };
    case 'event': {
      const ev = action.event;
      switch (ev.kind) {
        case 'status': {
          const seq = state.seq + 1;
          return { ...state, seq, lastEvent: { ...state.lastEvent, [ev.data.node]: seq }, nodes: { ...state.nodes, [ev.data.node]: statusOf(ev.data) } };
        }
        case 'message': {
          const log = state.messages[ev.data.node] ?? { items: [], total: 0 };
          const items = keepLast([...log.items, ev.data.message], state.limits[ev.data.node] ?? 10);
          return { ...state, messages: { ...state.messages, [ev.data.node]: { items, total: log.total + 1 } } };
        }
        case 'error': {
          const list = [...(state.errors[ev.data.node] ?? []), ev.data.record];
          return { ...state, errors: { ...state.errors, [ev.data.node]: keepLast(list, ERROR_RECORDS_KEPT) } };
        }
        case 'flow': {
          const seq = state.seq + 1;
          const base = startsRun(state, ev.data.state) ? freshRun(state) : state;
          return { ...base, seq, lastEvent: { ...base.lastEvent, [FLOW_KEY]: seq }, flowState: ev.data.state };
        }
        default:
          return state;
      }
    }
    default:
      return state;
  }
}

/** Parses one SSE event (name + data text) into a FlowEvent; null for unknown or malformed ones. */
export function parseFlowEvent(name: string, data: string): FlowEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  const d = parsed as Record<string, unknown>;
  switch (name) {
    case 'status':
      if (typeof d.node !== 'string') return null;
      return {
        kind: 'status',
        data: {
          node: d.node,
          state: (d.state as NodeStatus['state']) ?? 'stopped',
          received: Number(d.received ?? 0),
          emitted: Number(d.emitted ?? 0),
          errors: Number(d.errors ?? 0),
          lastError: (d.lastError as NodeStatus['lastError']) ?? null,
        },
      };
    case 'message':
      if (typeof d.node !== 'string' || d.message === null || typeof d.message !== 'object') return null;
      return { kind: 'message', data: { node: d.node, message: d.message as Message } };
    case 'errorRecord':
      if (typeof d.node !== 'string') return null;
      return { kind: 'error', data: { node: d.node, record: (d.record ?? {}) as JsonObject } };
    case 'flow':
      if (d.state !== 'running' && d.state !== 'stopped') return null;
      return { kind: 'flow', data: { flow: String(d.flow ?? ''), state: d.state } };
    default:
      return null;
  }
}
