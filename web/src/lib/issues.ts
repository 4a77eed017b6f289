// Server-side validation errors (422 `details` with `node` + `pointer`) mapped onto nodes,
// edges and property-sheet fields.
import type { ErrorSchema } from '@rjsf/utils';
import type { ErrorDetail, FlowDocument } from '../api/types';
import { formatPointer, getAt, parsePointer } from './pointer';

export interface NodeIssue {
  /** Pointer into the node's `config` of the offending field; '' for the whole config or node. */
  pointer: string;
  /** True when the issue is about the config (shown in the property sheet on `pointer`). */
  inConfig: boolean;
  message: string;
}

export interface Issues {
  byNode: Record<string, NodeIssue[]>;
  byEdge: Record<string, string[]>;
  general: string[];
}

export function noIssues(): Issues {
  return { byNode: {}, byEdge: {}, general: [] };
}

export function issueCount(issues: Issues): number {
  return (
    Object.values(issues.byNode).reduce((n, l) => n + l.length, 0) +
    Object.values(issues.byEdge).reduce((n, l) => n + l.length, 0) +
    issues.general.length
  );
}

const REQUIRED_PATTERNS = [
  /^"([^"]+)" is a required property/,
  /required property '([^']+)'/,
  /missing (?:required )?property "?'?([A-Za-z0-9_$-]+)/i,
];

/**
 * Validators report a missing property on the object that lacks it. The user needs to see it on
 * the missing field, so such pointers are extended with the property name.
 */
export function fieldPointer(configPointer: string, message: string, config: unknown): string {
  for (const re of REQUIRED_PATTERNS) {
    const m = re.exec(message);
    if (m) {
      const at = getAt(config, configPointer);
      if (at === undefined || (at !== null && typeof at === 'object' && !Array.isArray(at))) {
        return formatPointer([...parsePointer(configPointer), m[1]!]);
      }
    }
  }
  return configPointer;
}

function push<K extends string, V>(map: Record<K, V[]>, key: K, v: V) {
  (map[key] ??= []).push(v);
}

/**
 * Maps error details onto the document. `base` says where pointers start: `flow` for the flow
 * routes (`/nodes/1/config/functionName`), `config` for the component test route (`/config/…`,
 * in which case `nodeId` names the node under test).
 */
export function issuesFromDetails(
  details: readonly ErrorDetail[],
  doc: Pick<FlowDocument, 'nodes' | 'edges'>,
  base: 'flow' | { config: string } = 'flow',
): Issues {
  const issues = noIssues();
  const nodeIds = new Set(doc.nodes.map((n) => n.id));
  const edgeIds = new Set(doc.edges.map((e) => e.id));
  for (const d of details) {
    const message = d.message;
    let tokens: string[];
    try {
      tokens = parsePointer(d.pointer ?? '');
    } catch {
      tokens = [];
    }
    if (base !== 'flow') {
      const nodeId = base.config;
      const config = doc.nodes.find((n) => n.id === nodeId)?.config;
      if (tokens[0] === 'config') {
        const ptr = fieldPointer(formatPointer(tokens.slice(1)), message, config);
        push(issues.byNode, nodeId, { pointer: ptr, inConfig: true, message });
      } else {
        push(issues.byNode, nodeId, { pointer: '', inConfig: false, message });
      }
      continue;
    }
    if (tokens[0] === 'nodes' && tokens.length >= 2) {
      const idx = Number(tokens[1]);
      const node = (d.node && nodeIds.has(d.node) ? doc.nodes.find((n) => n.id === d.node) : undefined) ?? doc.nodes[idx];
      if (node) {
        if (tokens[2] === 'config') {
          const ptr = fieldPointer(formatPointer(tokens.slice(3)), message, node.config);
          push(issues.byNode, node.id, { pointer: ptr, inConfig: true, message });
        } else {
          const field = tokens.slice(2).join('.');
          push(issues.byNode, node.id, { pointer: '', inConfig: false, message: field ? `${field}: ${message}` : message });
        }
        continue;
      }
    }
    if (tokens[0] === 'edges' && tokens.length >= 2) {
      const idx = Number(tokens[1]);
      const edge = (d.node && edgeIds.has(d.node) ? d.node : undefined) ?? doc.edges[idx]?.id;
      if (edge) {
        push(issues.byEdge, edge, message);
        continue;
      }
    }
    if (d.node && nodeIds.has(d.node)) {
      push(issues.byNode, d.node, { pointer: '', inConfig: false, message });
    } else if (d.node && edgeIds.has(d.node)) {
      push(issues.byEdge, d.node, message);
    } else {
      issues.general.push(d.node ? `${d.node}: ${message}` : message);
    }
  }
  return issues;
}

/** The rjsf `extraErrors` for one node's property sheet. */
export function errorSchemaFor(nodeIssues: readonly NodeIssue[] | undefined): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const issue of nodeIssues ?? []) {
    if (!issue.inConfig) continue;
    let cur = root;
    for (const t of parsePointer(issue.pointer)) {
      cur = (cur[t] ??= {}) as Record<string, unknown>;
    }
    ((cur.__errors ??= []) as string[]).push(issue.message);
  }
  return root as ErrorSchema;
}

/** Drops the issues whose field the user has just changed (the server will judge it again on save). */
export function pruneChanged(nodeIssues: readonly NodeIssue[], before: unknown, after: unknown): NodeIssue[] {
  return nodeIssues.filter((i) => {
    if (!i.inConfig) return true;
    return JSON.stringify(getAt(before, i.pointer)) === JSON.stringify(getAt(after, i.pointer));
  });
}

/** A readable field label from a config pointer: `/connection/region` → `connection › region`. */
export function pointerLabel(pointer: string): string {
  const t = parsePointer(pointer);
  return t.length === 0 ? 'configuration' : t.join(' › ');
}

interface NodeLike {
  id: string;
  data: { config: unknown };
}
interface EdgeLike {
  id: string;
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
  data?: Record<string, unknown>;
}

/**
 * The issues still standing after undo/redo restored other nodes and edges: those of a node or
 * route that is gone, of a config field whose value changed, or of a route whose ends, transport
 * or partition key changed are dropped (the server judges the restored version again on the next
 * save).
 */
export function pruneRestored(issues: Issues, beforeNodes: readonly NodeLike[], afterNodes: readonly NodeLike[], beforeEdges: readonly EdgeLike[], afterEdges: readonly EdgeLike[]): Issues {
  const beforeN = new Map(beforeNodes.map((n) => [n.id, n]));
  const afterN = new Map(afterNodes.map((n) => [n.id, n]));
  const byNode: Record<string, NodeIssue[]> = {};
  for (const [id, list] of Object.entries(issues.byNode)) {
    const after = afterN.get(id);
    if (!after) continue;
    const kept = pruneChanged(list, beforeN.get(id)?.data.config, after.data.config);
    if (kept.length > 0) byNode[id] = kept;
  }
  const ends = (e: EdgeLike | undefined) => (e ? `${e.source}.${e.sourceHandle ?? ''}>${e.target}.${e.targetHandle ?? ''} ${JSON.stringify(e.data ?? {})}` : '');
  const beforeE = new Map(beforeEdges.map((e) => [e.id, e]));
  const afterE = new Map(afterEdges.map((e) => [e.id, e]));
  const byEdge: Record<string, string[]> = {};
  for (const [id, list] of Object.entries(issues.byEdge)) {
    const after = afterE.get(id);
    if (after && ends(after) === ends(beforeE.get(id))) byEdge[id] = list;
  }
  return { byNode, byEdge, general: issues.general };
}
