// Identifier rules and generators: flow ids (design §3), node ids (`lambda1`, `feeder2`), route ids (`route1`).

export const FLOW_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Why `id` is not a usable flow id, or null when it is. */
export function flowIdProblem(id: string, existing: readonly string[] = []): string | null {
  if (id.length === 0) return 'Give the flow an id.';
  if (id.length > 64) return 'At most 64 characters.';
  if (!FLOW_ID_PATTERN.test(id)) {
    if (/[A-Z]/.test(id)) return 'Use lower-case letters only.';
    if (!/^[a-z0-9]/.test(id)) return 'Start with a lower-case letter or a digit.';
    return 'Use only a-z, 0-9, "-" and "_".';
  }
  if (existing.includes(id)) return `A flow named "${id}" already exists.`;
  return null;
}

/** Suggests a flow id from a human name: "Lambda sync demo" → "lambda-sync-demo". */
export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return s;
}

function nextNumbered(prefix: string, existing: Iterable<string>): string {
  let max = 0;
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)$`);
  for (const id of existing) {
    const m = re.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${prefix}${max + 1}`;
}

/** The next node id for a component type: `lambda1`, `lambda2`, … (never reusing a higher number in use). */
export function nextNodeId(type: string, existingIds: Iterable<string>): string {
  const prefix = type.toLowerCase().replace(/[^a-z0-9_-]/g, '') || 'node';
  return nextNumbered(prefix, existingIds);
}

/** The next edge id: `route1`, `route2`, … as Fiorano names its event routes. */
export function nextRouteId(existingIds: Iterable<string>): string {
  return nextNumbered('route', existingIds);
}

/** A default display name for a new node: the component title, numbered when already taken. */
export function defaultNodeName(title: string, existingNames: Iterable<string>): string {
  const names = new Set(existingNames);
  if (!names.has(title)) return title;
  let n = 2;
  while (names.has(`${title} ${n}`)) n++;
  return `${title} ${n}`;
}
