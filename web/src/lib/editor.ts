// The editor's state: the open flow as React Flow nodes/edges, its undo history, the last saved
// revision and the server's validation issues. One reducer, so every edit is recorded once.
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import type { EdgeTransport, FlowDocument, JsonObject, Position } from '../api/types';
import { emptyHistory, record, redo, seal, undo, type History, type RecordOptions } from './history';
import { defaultNodeName, nextNodeId, nextRouteId } from './ids';
import { pasteable, type Fragment } from './clipboard';
import { noIssues, pruneChanged, pruneRestored, type Issues } from './issues';
import {
  edgeClassName,
  fingerprint,
  flowToRf,
  NODE_TYPE,
  restoreSnapshot,
  snapshotOf,
  type DesignerEdge,
  type DesignerNode,
  type EdgeData,
  type FlowMeta,
  type Snapshot,
} from './model';

export interface EditorState {
  meta: FlowMeta;
  nodes: DesignerNode[];
  edges: DesignerEdge[];
  history: History<Snapshot>;
  /** Revision of the last load or save; undefined for a flow never saved. */
  rev?: string;
  /** Fingerprint of the document as last loaded or saved ('' when never saved). */
  savedFingerprint: string;
  dragging: boolean;
  issues: Issues;
  /** Ids of the nodes the server holds (as last loaded or saved): the others have no run data. */
  serverNodes: string[];
}

export type EditorAction =
  | { type: 'load'; flow: FlowDocument; saved: boolean }
  | { type: 'nodesChange'; changes: NodeChange<DesignerNode>[] }
  | { type: 'edgesChange'; changes: EdgeChange<DesignerEdge>[] }
  | { type: 'connect'; connection: Connection }
  /** `select` (default true) selects the new node, which opens its sheet; a drop does not. */
  | { type: 'addNode'; componentType: string; title: string; position: Position; config?: JsonObject; select?: boolean }
  | { type: 'delete'; nodeIds: string[]; edgeIds: string[] }
  | { type: 'rename'; nodeId: string; name: string }
  | { type: 'setConfig'; nodeId: string; config: JsonObject }
  | { type: 'clearSecret'; nodeId: string; pointer: string; clear: boolean }
  /**
   * A route's transport and partition key (its sheet). Back to `local` drops the key; an empty
   * key is no key. Typing in the key is one undo step.
   */
  | { type: 'setEdge'; edgeId: string; transport?: EdgeTransport; partitionKey?: string }
  | { type: 'setMeta'; name?: string; description?: string }
  /** Selects exactly these nodes and routes (`edgeIds` default none: a route alone opens its sheet). */
  | { type: 'select'; nodeIds: string[]; edgeIds?: string[] }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'saved'; flow: FlowDocument }
  | { type: 'setIssues'; issues: Issues }
  | { type: 'seal' }
  /** Adds a copied fragment with fresh ids, `offset` px away, and selects it (one undo step). */
  | { type: 'paste'; fragment: Fragment; offset: number }
  | { type: 'selectAll' };

const sameSnapshot = (a: Snapshot, b: Snapshot) => fingerprint(a) === fingerprint(b);

export function emptyEditor(): EditorState {
  return {
    meta: { id: '', name: '' },
    nodes: [],
    edges: [],
    history: emptyHistory(),
    savedFingerprint: '',
    dragging: false,
    issues: noIssues(),
    serverNodes: [],
  };
}

export function currentSnapshot(s: EditorState): Snapshot {
  return snapshotOf(s.meta, s.nodes, s.edges);
}

export function isDirty(s: EditorState): boolean {
  return fingerprint(currentSnapshot(s)) !== s.savedFingerprint;
}

export function toFlowDocument(s: EditorState): FlowDocument {
  const snap = currentSnapshot(s);
  const doc: FlowDocument = { id: snap.meta.id, name: snap.meta.name, nodes: snap.nodes, edges: snap.edges };
  if (snap.meta.description) doc.description = snap.meta.description;
  return doc;
}

function recorded(s: EditorState, opts?: RecordOptions): History<Snapshot> {
  return record(s.history, currentSnapshot(s), opts);
}

function loadState(flow: FlowDocument, saved: boolean): EditorState {
  const { nodes, edges } = flowToRf(flow);
  const meta: FlowMeta = { id: flow.id, name: flow.name ?? flow.id };
  if (flow.description) meta.description = flow.description;
  const base: EditorState = { ...emptyEditor(), meta, nodes, edges };
  if (flow.rev !== undefined) base.rev = flow.rev;
  base.savedFingerprint = saved ? fingerprint(currentSnapshot(base)) : '';
  base.serverNodes = saved ? flow.nodes.map((n) => n.id) : [];
  return base;
}

export function editorReducer(s: EditorState, a: EditorAction): EditorState {
  switch (a.type) {
    case 'load':
      return loadState(a.flow, a.saved);

    case 'nodesChange': {
      let history = s.history;
      let dragging = s.dragging;
      const positional = a.changes.filter((c) => c.type === 'position');
      const removals = a.changes.filter((c) => c.type === 'remove');
      if (positional.some((c) => c.type === 'position' && c.dragging)) {
        if (!dragging) history = recorded(s);
        dragging = true;
      } else if (positional.length > 0) {
        if (dragging) {
          dragging = false;
          history = seal(history);
        } else if (positional.some((c) => c.type === 'position' && c.position)) {
          // keyboard moves (arrow keys) arrive without `dragging`; a burst of them is one step
          history = recorded(s, { coalesceKey: `move:${positional.map((c) => c.id).join(',')}` });
        }
      }
      if (removals.length > 0) {
        return editorReducer(s, { type: 'delete', nodeIds: removals.map((c) => c.id), edgeIds: [] });
      }
      const nodes = applyNodeChanges(a.changes, s.nodes);
      return { ...s, nodes, history, dragging };
    }

    case 'edgesChange': {
      const removals = a.changes.filter((c) => c.type === 'remove').map((c) => c.id);
      if (removals.length > 0) return editorReducer(s, { type: 'delete', nodeIds: [], edgeIds: removals });
      return { ...s, edges: applyEdgeChanges(a.changes, s.edges) };
    }

    case 'connect': {
      const c = a.connection;
      const edge: DesignerEdge = {
        id: nextRouteId(s.edges.map((e) => e.id)),
        source: c.source,
        sourceHandle: c.sourceHandle ?? 'out',
        target: c.target,
        targetHandle: c.targetHandle ?? 'in',
      };
      const cls = edgeClassName(edge.sourceHandle);
      if (cls) edge.className = cls;
      return { ...s, history: recorded(s), edges: [...s.edges, edge] };
    }

    case 'addNode': {
      const id = nextNodeId(a.componentType, s.nodes.map((n) => n.id));
      const node: DesignerNode = {
        id,
        type: NODE_TYPE,
        position: { x: Math.round(a.position.x), y: Math.round(a.position.y) },
        data: { type: a.componentType, name: defaultNodeName(a.title, s.nodes.map((n) => n.data.name)), config: a.config ?? {} },
        selected: a.select !== false,
      };
      const keep = a.select === false;
      const nodes = keep ? s.nodes : s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
      const edges = keep ? s.edges : s.edges.map((e) => (e.selected ? { ...e, selected: false } : e));
      return { ...s, history: recorded(s), nodes: [...nodes, node], edges };
    }

    case 'delete': {
      const nodeIds = new Set(a.nodeIds);
      const edgeIds = new Set(a.edgeIds);
      const nodes = s.nodes.filter((n) => !nodeIds.has(n.id));
      const edges = s.edges.filter((e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target));
      if (nodes.length === s.nodes.length && edges.length === s.edges.length) return s;
      const byNode = { ...s.issues.byNode };
      for (const id of nodeIds) delete byNode[id];
      return { ...s, history: recorded(s), nodes, edges, issues: { ...s.issues, byNode } };
    }

    case 'rename': {
      const node = s.nodes.find((n) => n.id === a.nodeId);
      if (!node || node.data.name === a.name) return s;
      return {
        ...s,
        history: recorded(s, { coalesceKey: `rename:${a.nodeId}` }),
        nodes: s.nodes.map((n) => (n.id === a.nodeId ? { ...n, data: { ...n.data, name: a.name } } : n)),
      };
    }

    case 'setConfig': {
      const node = s.nodes.find((n) => n.id === a.nodeId);
      if (!node || JSON.stringify(node.data.config) === JSON.stringify(a.config)) return s;
      const nodeIssues = s.issues.byNode[a.nodeId];
      const issues = nodeIssues
        ? { ...s.issues, byNode: { ...s.issues.byNode, [a.nodeId]: pruneChanged(nodeIssues, node.data.config, a.config) } }
        : s.issues;
      return {
        ...s,
        issues,
        history: recorded(s, { coalesceKey: `config:${a.nodeId}` }),
        nodes: s.nodes.map((n) => (n.id === a.nodeId ? { ...n, data: { ...n.data, config: a.config } } : n)),
      };
    }

    case 'clearSecret': {
      const node = s.nodes.find((n) => n.id === a.nodeId);
      if (!node) return s;
      const current = new Set(node.data.secretsClear ?? []);
      if (a.clear) current.add(a.pointer);
      else current.delete(a.pointer);
      const data = { ...node.data };
      if (current.size > 0) data.secretsClear = [...current];
      else delete data.secretsClear;
      return { ...s, history: recorded(s), nodes: s.nodes.map((n) => (n.id === a.nodeId ? { ...n, data } : n)) };
    }

    case 'setEdge': {
      const edge = s.edges.find((e) => e.id === a.edgeId);
      if (!edge) return s;
      const transport = a.transport ?? edge.data?.transport ?? 'local';
      const data: EdgeData = {};
      if (transport !== 'local') {
        data.transport = transport;
        const key = a.partitionKey ?? edge.data?.partitionKey ?? '';
        if (key !== '') data.partitionKey = key;
      }
      if (JSON.stringify(data) === JSON.stringify(edge.data ?? {})) return s;
      const next = { ...edge };
      if (Object.keys(data).length > 0) next.data = data;
      else delete next.data;
      const byEdge = { ...s.issues.byEdge };
      delete byEdge[a.edgeId];
      const typing = a.transport === undefined;
      return {
        ...s,
        issues: { ...s.issues, byEdge },
        history: recorded(s, typing ? { coalesceKey: `edge:${a.edgeId}` } : undefined),
        edges: s.edges.map((e) => (e.id === a.edgeId ? next : e)),
      };
    }

    case 'setMeta': {
      const meta = { ...s.meta };
      if (a.name !== undefined) meta.name = a.name;
      if (a.description !== undefined) {
        if (a.description) meta.description = a.description;
        else delete meta.description;
      }
      if (JSON.stringify(meta) === JSON.stringify(s.meta)) return s;
      return { ...s, meta, history: recorded(s, { coalesceKey: 'meta' }) };
    }

    case 'select': {
      const ids = new Set(a.nodeIds);
      const edgeIds = new Set(a.edgeIds ?? []);
      return {
        ...s,
        nodes: s.nodes.map((n) => (Boolean(n.selected) === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) })),
        edges: s.edges.map((e) => (Boolean(e.selected) === edgeIds.has(e.id) ? e : { ...e, selected: edgeIds.has(e.id) })),
      };
    }

    case 'undo':
    case 'redo': {
      const current = currentSnapshot(s);
      const step = a.type === 'undo' ? undo(s.history, current, sameSnapshot) : redo(s.history, current, sameSnapshot);
      if (!step) return s;
      const { nodes, edges } = restoreSnapshot(step.snapshot, s.nodes, s.edges);
      const issues = pruneRestored(s.issues, s.nodes, nodes, s.edges, edges);
      return { ...s, meta: step.snapshot.meta, nodes, edges, issues, history: step.history, dragging: false };
    }

    case 'saved': {
      // The server's answer carries the new rev, strips secrets and lists those it holds.
      const serverNodes = new Map(a.flow.nodes.map((n) => [n.id, n]));
      const nodes = s.nodes.map((n) => {
        const sn = serverNodes.get(n.id);
        if (!sn) return n;
        const data = { ...n.data, config: sn.config ?? {} };
        if (sn.secretsSet && sn.secretsSet.length > 0) data.secretsSet = [...sn.secretsSet];
        else delete data.secretsSet;
        delete data.secretsClear;
        return { ...n, data };
      });
      // a save ends the current undo step: edits after it never merge with edits before it
      const next: EditorState = { ...s, nodes, issues: noIssues(), serverNodes: a.flow.nodes.map((n) => n.id), history: seal(s.history) };
      if (a.flow.rev !== undefined) next.rev = a.flow.rev;
      next.savedFingerprint = fingerprint(currentSnapshot(next));
      return next;
    }

    case 'setIssues':
      return { ...s, issues: a.issues };

    case 'paste': {
      if (a.fragment.nodes.length === 0) return s;
      const doc = toFlowDocument(s);
      const piece = pasteable(doc, a.fragment, a.offset);
      const { nodes: added, edges: addedEdges } = flowToRf(piece);
      const nodes = [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added.map((n) => ({ ...n, selected: true }))];
      const edges = [...s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...addedEdges];
      return { ...s, history: recorded(s), nodes, edges };
    }

    case 'selectAll':
      return { ...s, nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) };

    case 'seal':
      return { ...s, history: seal(s.history) };

    default:
      return s;
  }
}
