// The designer's document model and its conversion to and from React Flow.
//
// The flow file (design §3) is the source of truth; React Flow nodes carry it in `data`.
// Handle ids are exactly the port names (`in`, `out`, `error`), so an edge
// `{from: {node, port}, to: {node, port}}` is `{source, sourceHandle, target, targetHandle}`.
import type { Edge, Node } from '@xyflow/react';
import type { EdgeTransport, FlowDocument, FlowEdge, FlowNode, JsonObject } from '../api/types';

export interface NodeData extends Record<string, unknown> {
  /** Component type: `feeder`, `display`, `lambda`, … */
  type: string;
  name: string;
  config: JsonObject;
  secretsSet?: string[];
  secretsClear?: string[];
}

export const NODE_TYPE = 'component';
export type DesignerNode = Node<NodeData, typeof NODE_TYPE>;
/** What a route carries besides its ends: its transport (absent: local) and partition key. */
export interface EdgeData extends Record<string, unknown> {
  transport?: EdgeTransport;
  partitionKey?: string;
}
export type DesignerEdge = Edge<EdgeData>;

/** Whether a route crosses processes through NATS JetStream. */
export function isJetStream(e: Pick<DesignerEdge, 'data'>): boolean {
  return e.data?.transport === 'jetstream';
}

export interface FlowMeta {
  id: string;
  name: string;
  description?: string;
}

/** What undo/redo restores: everything a user edits, nothing about selection or runtime. */
export interface Snapshot {
  meta: FlowMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function edgeClassName(port: string | null | undefined): string | undefined {
  return port === 'error' ? 'edge-error' : undefined;
}

export function flowNodeToRf(n: FlowNode): DesignerNode {
  const data: NodeData = { type: n.type, name: n.name, config: n.config ?? {} };
  if (n.secretsSet && n.secretsSet.length > 0) data.secretsSet = [...n.secretsSet];
  if (n.secretsClear && n.secretsClear.length > 0) data.secretsClear = [...n.secretsClear];
  return {
    id: n.id,
    type: NODE_TYPE,
    position: { x: n.position?.x ?? 0, y: n.position?.y ?? 0 },
    data,
  };
}

export function flowEdgeToRf(e: FlowEdge): DesignerEdge {
  const edge: DesignerEdge = {
    id: e.id,
    source: e.from.node,
    sourceHandle: e.from.port,
    target: e.to.node,
    targetHandle: e.to.port,
  };
  const cls = edgeClassName(e.from.port);
  if (cls) edge.className = cls;
  const data = edgeData(e);
  if (data) edge.data = data;
  return edge;
}

/** The edge's fields beyond its ends, as the file has them (`local` is the default and omitted). */
function edgeData(e: Pick<FlowEdge, 'transport' | 'partitionKey'>): EdgeData | undefined {
  const data: EdgeData = {};
  if (e.transport && e.transport !== 'local') data.transport = e.transport;
  if (e.partitionKey) data.partitionKey = e.partitionKey;
  return Object.keys(data).length > 0 ? data : undefined;
}

export function flowToRf(flow: Pick<FlowDocument, 'nodes' | 'edges'>): { nodes: DesignerNode[]; edges: DesignerEdge[] } {
  return {
    nodes: (flow.nodes ?? []).map(flowNodeToRf),
    edges: (flow.edges ?? []).map(flowEdgeToRf),
  };
}

function round(n: number): number {
  return Math.round(n);
}

export function rfNodeToFlow(n: DesignerNode): FlowNode {
  const out: FlowNode = {
    id: n.id,
    type: n.data.type,
    name: n.data.name,
    position: { x: round(n.position.x), y: round(n.position.y) },
    config: n.data.config ?? {},
  };
  if (n.data.secretsSet && n.data.secretsSet.length > 0) out.secretsSet = [...n.data.secretsSet];
  if (n.data.secretsClear && n.data.secretsClear.length > 0) out.secretsClear = [...n.data.secretsClear];
  return out;
}

export function rfEdgeToFlow(e: DesignerEdge): FlowEdge {
  const out: FlowEdge = {
    id: e.id,
    from: { node: e.source, port: e.sourceHandle ?? 'out' },
    to: { node: e.target, port: e.targetHandle ?? 'in' },
  };
  if (e.data) Object.assign(out, edgeData(e.data));
  return out;
}

export function rfToFlow(meta: FlowMeta, nodes: readonly DesignerNode[], edges: readonly DesignerEdge[]): FlowDocument {
  const doc: FlowDocument = {
    id: meta.id,
    name: meta.name,
    nodes: nodes.map(rfNodeToFlow),
    edges: edges.map(rfEdgeToFlow),
  };
  if (meta.description) doc.description = meta.description;
  return doc;
}

export function snapshotOf(meta: FlowMeta, nodes: readonly DesignerNode[], edges: readonly DesignerEdge[]): Snapshot {
  return { meta: { ...meta }, nodes: nodes.map(rfNodeToFlow), edges: edges.map(rfEdgeToFlow) };
}

/**
 * Rebuilds React Flow nodes from a snapshot, keeping what React Flow measured and what the
 * user has selected for nodes that still exist (so undo does not make nodes flicker or deselect).
 */
export function restoreSnapshot(
  snap: Snapshot,
  current: readonly DesignerNode[],
  currentEdges: readonly DesignerEdge[] = [],
): { nodes: DesignerNode[]; edges: DesignerEdge[] } {
  const byId = new Map(current.map((n) => [n.id, n]));
  const nodes = snap.nodes.map((fn) => {
    const fresh = flowNodeToRf(fn);
    const prev = byId.get(fn.id);
    if (prev?.measured) fresh.measured = prev.measured;
    if (prev?.selected) fresh.selected = true;
    return fresh;
  });
  const selectedEdges = new Set(currentEdges.filter((e) => e.selected).map((e) => e.id));
  const edges = snap.edges.map((fe) => {
    const e = flowEdgeToRf(fe);
    if (selectedEdges.has(e.id)) e.selected = true;
    return e;
  });
  return { nodes, edges };
}

/** A stable serialisation used to tell whether the document changed since it was saved. */
export function fingerprint(snap: Snapshot): string {
  return JSON.stringify(snap);
}

/** Checks that an imported JSON value looks like a flow document, and says what is wrong if not. */
export function parseFlowDocument(value: unknown): { flow: FlowDocument } | { problem: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'The file is not a JSON object.' };
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string') return { problem: 'The flow has no "id".' };
  if (!Array.isArray(v.nodes)) return { problem: 'The flow has no "nodes" list.' };
  if (v.edges !== undefined && !Array.isArray(v.edges)) return { problem: '"edges" must be a list.' };
  for (const [i, n] of (v.nodes as unknown[]).entries()) {
    if (n === null || typeof n !== 'object') return { problem: `nodes[${i}] is not an object.` };
    const node = n as Record<string, unknown>;
    if (typeof node.id !== 'string' || typeof node.type !== 'string') return { problem: `nodes[${i}] needs an "id" and a "type".` };
  }
  for (const [i, e] of ((v.edges as unknown[] | undefined) ?? []).entries()) {
    const edge = e as Record<string, unknown> | null;
    const from = edge?.from as Record<string, unknown> | undefined;
    const to = edge?.to as Record<string, unknown> | undefined;
    if (!edge || typeof edge.id !== 'string' || typeof from?.node !== 'string' || typeof to?.node !== 'string') {
      return { problem: `edges[${i}] needs an "id", "from": {node, port} and "to": {node, port}.` };
    }
  }
  const nodes = (v.nodes as Record<string, unknown>[]).map((n) => ({
    id: n.id as string,
    type: n.type as string,
    name: typeof n.name === 'string' ? n.name : (n.id as string),
    position:
      n.position && typeof n.position === 'object'
        ? { x: Number((n.position as Record<string, unknown>).x) || 0, y: Number((n.position as Record<string, unknown>).y) || 0 }
        : { x: 0, y: 0 },
    config: (n.config && typeof n.config === 'object' && !Array.isArray(n.config) ? n.config : {}) as JsonObject,
  }));
  const edges = ((v.edges as Record<string, unknown>[] | undefined) ?? []).map((e) => {
    const from = e.from as Record<string, string>;
    const to = e.to as Record<string, string>;
    const edge: FlowEdge = { id: e.id as string, from: { node: from.node!, port: from.port ?? 'out' }, to: { node: to.node!, port: to.port ?? 'in' } };
    if (e.transport === 'local' || e.transport === 'jetstream') edge.transport = e.transport;
    if (typeof e.partitionKey === 'string') edge.partitionKey = e.partitionKey;
    return edge;
  });
  const flow: FlowDocument = { id: v.id, name: typeof v.name === 'string' ? v.name : v.id, nodes, edges };
  if (typeof v.description === 'string') flow.description = v.description;
  return { flow };
}
