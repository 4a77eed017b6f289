// Which connections the canvas accepts: only an output port of one node to an input port of another.
import type { ComponentDescriptor } from '../api/types';

export interface ConnectionLike {
  source: string | null;
  target: string | null;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export interface EdgeLike {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export type TypeOf = (nodeId: string) => string | undefined;

/** Why a connection is refused, or null when it is fine. */
export function connectionProblem(
  c: ConnectionLike,
  typeOf: TypeOf,
  components: ReadonlyMap<string, Pick<ComponentDescriptor, 'inputs' | 'outputs'>>,
  existing: readonly EdgeLike[] = [],
): string | null {
  if (!c.source || !c.target) return 'A route needs two ends.';
  if (c.source === c.target) return 'A node cannot feed itself.';
  const st = typeOf(c.source);
  const tt = typeOf(c.target);
  const sd = st ? components.get(st) : undefined;
  const td = tt ? components.get(tt) : undefined;
  if (!sd || !td) return 'Unknown component type.';
  const sh = c.sourceHandle ?? null;
  const th = c.targetHandle ?? null;
  if (!sh || !sd.outputs.includes(sh)) return 'A route starts at an output port (out or error).';
  if (!th || !td.inputs.includes(th)) return 'A route ends at an input port (in).';
  if (existing.some((e) => e.source === c.source && e.target === c.target && (e.sourceHandle ?? null) === sh && (e.targetHandle ?? null) === th)) {
    return 'These ports are already connected.';
  }
  return null;
}

export function isValidConnection(
  c: ConnectionLike,
  typeOf: TypeOf,
  components: ReadonlyMap<string, Pick<ComponentDescriptor, 'inputs' | 'outputs'>>,
  existing: readonly EdgeLike[] = [],
): boolean {
  return connectionProblem(c, typeOf, components, existing) === null;
}

export interface HandleEnd {
  node: string;
  port: string;
  /** `source`: an output port; `target`: an input port. */
  kind: 'source' | 'target';
}

/**
 * Why a wire dragged from `from` and dropped on `to` was refused, in the user's words: out→out,
 * in→in, a self-loop, a duplicate. Null when it would be accepted.
 */
export function refusalReason(
  from: HandleEnd,
  to: HandleEnd,
  typeOf: TypeOf,
  components: ReadonlyMap<string, Pick<ComponentDescriptor, 'inputs' | 'outputs'>>,
  existing: readonly EdgeLike[] = [],
): string | null {
  if (from.node === to.node && from.port === to.port && from.kind === to.kind) return null; // dropped where it started
  if (from.node === to.node) return 'Not connected: a node cannot feed itself.';
  if (from.kind === 'source' && to.kind === 'source') return `Not connected: “${from.port}” and “${to.port}” are both outputs. Wire an output to an input (in).`;
  if (from.kind === 'target' && to.kind === 'target') return `Not connected: both ends are inputs (in). Wire an output (out or error) to an input.`;
  const [src, dst] = from.kind === 'source' ? [from, to] : [to, from];
  const problem = connectionProblem({ source: src.node, sourceHandle: src.port, target: dst.node, targetHandle: dst.port }, typeOf, components, existing);
  return problem ? `Not connected: ${problem.charAt(0).toLowerCase()}${problem.slice(1)}` : null;
}
