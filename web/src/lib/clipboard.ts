// Copy, paste, duplicate and export of a selection: the selected nodes with the routes between
// them, as a piece of a flow document; pasted with fresh ids, offset, and selected.
import type { FlowDocument, FlowEdge, FlowNode } from '../api/types';
import { defaultNodeName, nextNodeId, nextRouteId } from './ids';

export type Fragment = Pick<FlowDocument, 'nodes' | 'edges'>;

/** The nodes with `ids` and the routes that join two of them (secrets never included). */
export function fragmentOf(doc: Fragment, ids: ReadonlySet<string>): Fragment {
  const nodes = doc.nodes
    .filter((n) => ids.has(n.id))
    .map(({ id, type, name, position, config }) => ({ id, type, name, position: { ...position }, config: structuredClone(config) }));
  const edges = doc.edges.filter((e) => ids.has(e.from.node) && ids.has(e.to.node)).map((e) => structuredClone(e));
  return { nodes, edges };
}

/** `fragment` renamed so that it fits into `doc`: new node and route ids, moved by `offset`. */
export function pasteable(doc: Fragment, fragment: Fragment, offset: number): Fragment & { ids: Map<string, string> } {
  const ids = new Map<string, string>();
  const usedIds = doc.nodes.map((n) => n.id);
  const usedNames = doc.nodes.map((n) => n.name);
  const nodes: FlowNode[] = fragment.nodes.map((n) => {
    const id = nextNodeId(n.type, usedIds);
    usedIds.push(id);
    ids.set(n.id, id);
    const name = defaultNodeName(n.name, usedNames);
    usedNames.push(name);
    return { ...n, id, name, position: { x: n.position.x + offset, y: n.position.y + offset } };
  });
  const usedRoutes = doc.edges.map((e) => e.id);
  const edges: FlowEdge[] = fragment.edges.map((e) => {
    const id = nextRouteId(usedRoutes);
    usedRoutes.push(id);
    return { ...e, id, from: { ...e.from, node: ids.get(e.from.node)! }, to: { ...e.to, node: ids.get(e.to.node)! } };
  });
  return { nodes, edges, ids };
}

/** Parses clipboard text as a fragment (a flow document or a piece of one); null if it is not. */
export function parseFragment(text: string): Fragment | null {
  try {
    const v = JSON.parse(text) as Partial<Fragment>;
    if (!Array.isArray(v.nodes) || v.nodes.some((n) => typeof n?.id !== 'string' || typeof n?.type !== 'string')) return null;
    const nodes = v.nodes.map((n) => ({ ...n, name: n.name ?? n.id, position: n.position ?? { x: 0, y: 0 }, config: n.config ?? {} }));
    const known = new Set(nodes.map((n) => n.id));
    const edges = (Array.isArray(v.edges) ? v.edges : []).filter((e) => known.has(e?.from?.node) && known.has(e?.to?.node));
    return { nodes, edges };
  } catch {
    return null;
  }
}
