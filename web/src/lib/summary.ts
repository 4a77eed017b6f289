// One-line summaries of a property-sheet group's current values, shown on a collapsed group so
// that nobody has to open it to know what it holds.
import type { JsonObject } from '../api/types';

function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function titleOf(schema: JsonObject | undefined, key: string): string {
  const props = schema && isObj(schema.properties) ? schema.properties : {};
  const sub = props[key];
  return isObj(sub) && typeof sub.title === 'string' ? sub.title : key;
}

/** Error handling of one type: `log, error port, retry 5×` (Fiorano's remedial actions). */
function actionsSummary(v: JsonObject): string {
  const parts: string[] = [];
  if (v.log !== false) parts.push('log');
  if (v.sendToErrorPort !== false) parts.push('error port');
  if (v.stopService === true) parts.push('stop node');
  const retry = v.retry;
  if (isObj(retry) && retry.enabled !== false) parts.push(`retry ${typeof retry.maxAttempts === 'number' ? `${retry.maxAttempts}×` : ''}`.trim());
  else parts.push('no retry');
  return parts.join(', ');
}

function valueText(v: unknown, schema: JsonObject | undefined, depth: number): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map((x) => (isObj(x) ? '{…}' : String(x))).join(', ');
  if (isObj(v)) {
    if ('log' in v || 'sendToErrorPort' in v) return actionsSummary(v);
    if (depth > 1) return '{…}';
    const inner = summarize(v, schema, Object.keys(v), depth + 1);
    return inner ? `(${inner})` : null;
  }
  return String(v);
}

/** `Title value · Title value` for the `fields` of `data` (described by `schema`). */
export function summarize(data: unknown, schema: JsonObject | undefined, fields: readonly string[], depth = 0): string {
  if (!isObj(data)) return '';
  const props = schema && isObj(schema.properties) ? schema.properties : {};
  const parts: string[] = [];
  for (const key of fields) {
    const sub = isObj(props[key]) ? props[key] : undefined;
    if (sub && sub.writeOnly === true) continue; // never show anything of a secret
    const text = valueText(data[key], sub, depth);
    if (text === null) continue;
    if (isObj(data[key]) && ('log' in data[key] || 'sendToErrorPort' in data[key])) parts.push(`${titleOf(schema, key)}: ${text}`);
    else parts.push(`${titleOf(schema, key)} ${text}`);
  }
  return parts.join(' · ');
}
