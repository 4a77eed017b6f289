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

/** The badge's text: `JS`, with the partition key (shortened) when the route is keyed. */
export function jetStreamBadge(data: EdgeData | undefined): string {
  const key = data?.partitionKey;
  if (!key) return 'JS';
  return `JS · ${key.length > 14 ? `${key.slice(0, 13)}…` : key}`;
}
