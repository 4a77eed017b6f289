// Which nodes of the open flow differ from the version the flow runs (Node-RED's "modified
// since deploy" marks): a node is changed when it is new, or its type, config or routes differ
// (a route's ends, transport or partition key).
import type { FlowDocument, Json } from '../api/types';

function stable(v: Json | undefined): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map((x) => stable(x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

type Doc = Pick<FlowDocument, 'nodes' | 'edges'>;

function routesOf(doc: Doc, node: string): string {
  return doc.edges
    .filter((e) => e.from.node === node || e.to.node === node)
    .map((e) => `${e.from.node}.${e.from.port}>${e.to.node}.${e.to.port} ${e.transport ?? 'local'}:${e.partitionKey ?? ''}`)
    .sort()
    .join('|');
}

export interface DeployDiff {
  /** Nodes of `current` that the run does not have as they are now. */
  changed: Set<string>;
  /** Nodes the run has that `current` no longer has. */
  removed: string[];
}

/** Compares the open flow with the deployed one (null: nothing runs, so nothing is marked). */
export function deployDiff(current: Doc, deployed: Doc | null): DeployDiff {
  if (!deployed) return { changed: new Set(), removed: [] };
  const running = new Map(deployed.nodes.map((n) => [n.id, n]));
  const changed = new Set<string>();
  for (const n of current.nodes) {
    const d = running.get(n.id);
    // secrets typed since the save are not in either config; a pending removal is a change
    const pendingSecret = (n.secretsClear?.length ?? 0) > 0;
    if (!d || d.type !== n.type || stable(d.config as Json) !== stable(n.config as Json) || routesOf(current, n.id) !== routesOf(deployed, n.id) || pendingSecret) {
      changed.add(n.id);
    }
  }
  const ids = new Set(current.nodes.map((n) => n.id));
  const removed = deployed.nodes.filter((n) => !ids.has(n.id)).map((n) => n.id);
  return { changed, removed };
}
