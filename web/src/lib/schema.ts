// Small JSON Schema helpers the designer needs beyond what rjsf does: finding write-only
// (secret) fields so that exports never carry them.
import { retrieveSchema, type RJSFSchema, type ValidatorType } from '@rjsf/utils';
import type { Json, JsonObject } from '../api/types';

type Schema = JsonObject;

function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Resolves a local `$ref` (`#/$defs/…`, `#/definitions/…`) against the root schema. */
export function resolveRef(root: Schema, schema: Schema, seen: Set<string> = new Set()): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#')) return schema;
  if (seen.has(ref)) return {};
  seen.add(ref);
  let cur: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const t = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    cur = isObj(cur) ? cur[t] : undefined;
  }
  if (!isObj(cur)) return {};
  const { $ref: _r, ...rest } = schema;
  void _r;
  const resolved = resolveRef(root, cur, seen);
  return Object.keys(rest).length > 0 ? { ...resolved, ...rest } : resolved;
}

/** All subschemas that may apply to an instance validated by `schema` (composition keywords unfolded). */
function applicable(root: Schema, schema: Schema, depth = 0): Schema[] {
  if (depth > 12) return [];
  const s = resolveRef(root, schema);
  const out: Schema[] = [s];
  for (const kw of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = s[kw];
    if (Array.isArray(list)) for (const sub of list) if (isObj(sub)) out.push(...applicable(root, sub, depth + 1));
  }
  for (const kw of ['then', 'else'] as const) {
    const sub = s[kw];
    if (isObj(sub)) out.push(...applicable(root, sub, depth + 1));
  }
  const deps = s.dependencies ?? s.dependentSchemas;
  if (isObj(deps)) for (const sub of Object.values(deps)) if (isObj(sub)) out.push(...applicable(root, sub, depth + 1));
  return out;
}

function propertySchemas(root: Schema, schema: Schema, key: string): Schema[] {
  const out: Schema[] = [];
  for (const s of applicable(root, schema)) {
    const props = s.properties;
    if (isObj(props) && isObj(props[key])) out.push(resolveRef(root, props[key]));
    const add = s.additionalProperties;
    if (isObj(add) && !(isObj(props) && key in props)) out.push(resolveRef(root, add));
  }
  return out;
}

function itemSchemas(root: Schema, schema: Schema): Schema[] {
  const out: Schema[] = [];
  for (const s of applicable(root, schema)) {
    if (isObj(s.items)) out.push(resolveRef(root, s.items));
  }
  return out;
}

function isWriteOnly(root: Schema, s: Schema): boolean {
  return applicable(root, s).some((x) => x.writeOnly === true || x['x-sensitive'] === true);
}

/** Returns `value` without any member whose schema is `writeOnly` (or `x-sensitive`). */
export function stripWriteOnly(value: Json, schema: Schema, root: Schema = schema): Json {
  if (Array.isArray(value)) {
    const items = itemSchemas(root, schema);
    return value.map((v) => items.reduce<Json>((acc, s) => stripWriteOnly(acc, s, root), v));
  }
  if (!isObj(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const subs = propertySchemas(root, schema, k);
    if (subs.some((s) => isWriteOnly(root, s))) continue;
    out[k] = subs.reduce<Json>((acc, s) => stripWriteOnly(acc, s, root), v);
  }
  return out;
}

/** Pointers (into an instance) of every write-only property the schema declares, for display. */
export function writeOnlyPointers(schema: Schema, root: Schema = schema, prefix = '', depth = 0): string[] {
  if (depth > 8) return [];
  const out = new Set<string>();
  for (const s of applicable(root, schema)) {
    const props = s.properties;
    if (!isObj(props)) continue;
    for (const [k, sub] of Object.entries(props)) {
      if (!isObj(sub)) continue;
      const ptr = `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const rs = resolveRef(root, sub);
      if (isWriteOnly(root, rs)) out.add(ptr);
      else for (const p of writeOnlyPointers(rs, root, ptr, depth + 1)) out.add(p);
    }
  }
  return [...out];
}

/**
 * Drops top-level values the schema, resolved for this data (`if/then/else`, `dependencies`),
 * no longer declares, when the schema forbids undeclared keys. Example: ticking the
 * LambdaConnector's "Async Invoke?" hides `invocationType`; its stored value would otherwise stay
 * in the config and the server would refuse the save on a field the user cannot see.
 */
export function dropHiddenFields(validator: ValidatorType, schema: RJSFSchema, data: JsonObject): JsonObject {
  const closed = schema.additionalProperties === false || (schema as JsonObject).unevaluatedProperties === false;
  if (!closed) return data;
  const resolved = retrieveSchema(validator, schema, schema, data);
  const declared = isObj(resolved.properties) ? resolved.properties : {};
  const kept: JsonObject = {};
  let dropped = false;
  for (const [key, value] of Object.entries(data)) {
    if (key in declared) kept[key] = value;
    else dropped = true;
  }
  return dropped ? kept : data;
}
