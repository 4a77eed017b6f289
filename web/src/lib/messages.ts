// What the designer tells the user about a refused flow, in the words of the property sheets
// (field titles, node names), never JSON pointers.
import type { ComponentDescriptor, FlowDocument } from '../api/types';
import type { Issues } from './issues';
import { fieldTitles, formSchema } from './sheetData';

/** The first problem as `Node name › Field title: message`, or null when there is none. */
export function issueHeadline(issues: Issues, doc: Pick<FlowDocument, 'nodes'>, components: ReadonlyMap<string, ComponentDescriptor>): string | null {
  for (const [nodeId, list] of Object.entries(issues.byNode)) {
    const first = list[0];
    if (!first) continue;
    const node = doc.nodes.find((n) => n.id === nodeId);
    const name = node?.name || nodeId;
    const schema = node ? components.get(node.type)?.schema : undefined;
    if (!first.inConfig || !schema) return `${name}: ${first.message}`;
    // validators often repeat the property's key first ("maxConcurrency: value is…"): the title says it
    const key = first.pointer.split('/').pop() ?? '';
    const message = key && first.message.startsWith(`${key}: `) ? first.message.slice(key.length + 2) : first.message;
    return `${name} › ${fieldTitles(formSchema(schema), first.pointer)}: ${message}`;
  }
  for (const [edgeId, list] of Object.entries(issues.byEdge)) if (list[0]) return `route ${edgeId}: ${list[0]}`;
  return issues.general[0] ?? null;
}
