// What Export downloads: the flow (or, with several nodes selected, those and the routes between
// them) without rev, secret values or secret bookkeeping.
import type { ComponentDescriptor, FlowDocument, Json, JsonObject } from '../api/types';
import { fragmentOf } from './clipboard';
import { stripWriteOnly } from './schema';

/** The flow as exported: no rev, no secret values, no secret bookkeeping. */
export function exportDocument(doc: FlowDocument, components: ReadonlyMap<string, ComponentDescriptor>): FlowDocument {
  const out: FlowDocument = { id: doc.id, name: doc.name, nodes: [], edges: doc.edges };
  if (doc.description) out.description = doc.description;
  out.nodes = doc.nodes.map((n) => {
    const schema = components.get(n.type)?.schema;
    const config = schema ? (stripWriteOnly(n.config as Json, schema) as JsonObject) : n.config;
    return { id: n.id, type: n.type, name: n.name, position: n.position, config };
  });
  return out;
}

/** The whole flow, or the selection when several (not all) nodes are picked. */
export function exportSelection(whole: FlowDocument, picked: readonly string[], components: ReadonlyMap<string, ComponentDescriptor>): FlowDocument {
  const partial = picked.length > 1 && picked.length < whole.nodes.length;
  const source = partial ? { ...whole, id: `${whole.id}-selection`, name: `${whole.name} (selection)`, ...fragmentOf(whole, new Set(picked)) } : whole;
  return exportDocument(source, components);
}

/** Saves `doc` as `<id>.json` through the browser's download. */
export function downloadJson(doc: FlowDocument): void {
  const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${doc.id || 'flow'}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
