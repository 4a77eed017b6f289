// What the designer says about a route's transport: the badge's text and tooltip, and the check
// of a partition key against `flow.schema.json` (`$defs.edge.partitionKey`).
import type { EdgeData } from './model';

/** `flow.schema.json` `$defs.edge.properties.partitionKey.pattern`. */
export const PARTITION_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export const PARTITION_KEY_HELP = 'Messages with the same value of this property keep their order across workers';

/** Why a partition key would be refused, or null when it is fine (empty means no key). */
export function partitionKeyProblem(key: string): string | null {
  if (key === '' || PARTITION_KEY_PATTERN.test(key)) return null;
  return key.length > 128 ? 'At most 128 characters.' : 'Only letters, digits and _ . : - (no spaces).';
}

/** The tooltip of a JetStream route's badge. */
export function jetStreamTitle(data: EdgeData | undefined): string {
  const base = 'JetStream (durable, shared by workers)';
  return data?.partitionKey ? `${base}, keyed by ${data.partitionKey}` : base;
}

/** The badge's width in px for its text (11 px monospace). */
export function badgeWidth(text: string): number {
  return 12 + text.length * 6.6;
}

/**
 * The badge's text: `JS`, with the partition key (shortened) when the route is keyed and its
 * straight stretch (`room`, px) leaves some wire visible either side of it.
 */
export function jetStreamBadge(data: EdgeData | undefined, room = Infinity): string {
  const key = data?.partitionKey;
  if (!key) return 'JS';
  const text = `JS · ${key.length > 14 ? `${key.slice(0, 13)}…` : key}`;
  return badgeWidth(text) + 48 <= room ? text : 'JS';
}
