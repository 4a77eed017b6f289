// What a property sheet shows and what it writes. The form shows every default, as the server
// will apply it; the flow keeps only the values the user chose.
//
// JSON Schema lets a property carry its own `default` beside a `$ref` (error handling: the
// `connection` type retries 5 times, although the shared `retry` definition says 3). Form
// libraries fill the referenced definition's defaults, so `formSchema` inlines such properties
// with their own default pushed down onto each member. `applyEdit` turns one form change into
// the smallest change of the stored config: a value equal to its default is removed, and an
// object created to hold the edit starts as its own default (so editing one flag of a type's
// error handling keeps that type's retry policy, as the server's defaults would have it).
import type { Json, JsonObject } from '../api/types';
import { formatPointer, getAt, parsePointer } from './pointer';
import { resolveRef } from './schema';

type Schema = JsonObject;

/** Annotation of a pushed-down member: the default its own definition gives it. */
const SERVER_DEFAULT = 'x-serverDefault';
/** Marks a member whose `default` came from its parent's. */
const PUSHED = 'x-defaultFromParent';

function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return false;
}

/** Removes every `default` below `schema` (a member its parent's default leaves out has none). */
function withoutDefaults(root: Schema, schema: Schema, depth: number): Schema {
  const s = { ...resolveRef(root, schema) };
  delete s.default;
  if (isObj(s.properties) && depth < 12) {
    const props: JsonObject = {};
    for (const [k, sub] of Object.entries(s.properties)) props[k] = isObj(sub) ? withoutDefaults(root, sub, depth + 1) : sub;
    s.properties = props;
  }
  return s;
}

/** `schema` with `value` as its default, pushed down onto its members. */
function withDefault(root: Schema, schema: Schema, value: Json, depth: number): Schema {
  const s: Schema = { ...resolveRef(root, schema), default: clone(value) };
  if (isObj(value) && isObj(s.properties) && depth < 12) {
    const props: JsonObject = {};
    for (const [k, sub] of Object.entries(s.properties)) {
      if (!isObj(sub)) props[k] = sub;
      else if (k in value) {
        const pushed = withDefault(root, sub, value[k]!, depth + 1);
        // what the server applies to this member when its parent is given without it
        const own = resolveRef(root, sub).default;
        pushed[PUSHED] = true;
        if (own !== undefined) pushed[SERVER_DEFAULT] = clone(own);
        props[k] = pushed;
      }
      else props[k] = withoutDefaults(root, sub, depth + 1);
    }
    s.properties = props;
  }
  return s;
}

function inline(root: Schema, schema: Schema, depth: number): Schema {
  if (depth > 12) return schema;
  if (schema.default !== undefined && schema.$ref !== undefined) return withDefault(root, schema, schema.default, depth);
  if (!isObj(schema.properties)) return schema;
  const props: JsonObject = {};
  for (const [k, sub] of Object.entries(schema.properties)) {
    if (!isObj(sub)) {
      props[k] = sub;
      continue;
    }
    const resolved = sub.$ref !== undefined && sub.default === undefined ? resolveRef(root, sub) : sub;
    props[k] = resolved === sub && !isObj(sub.properties) && sub.default === undefined ? sub : inline(root, resolved, depth + 1);
  }
  return { ...schema, properties: props };
}

/** The schema the form renders: properties with their own default beside a `$ref` inlined. */
export function formSchema(schema: Schema): Schema {
  return inline(schema, schema, 0);
}

/**
 * `schema` and every subschema that may apply beside it: conditional branches (`then`, `else`)
 * and combinations (`allOf`, `anyOf`, `oneOf`), nested (`allOf: [{if, then}]` is how a schema
 * adds fields for one choice).
 */
function branches(root: Schema, schema: Schema, depth: number): Schema[] {
  const out: Schema[] = [schema];
  if (depth > 6) return out;
  const more: unknown[] = [schema.then, schema.else];
  for (const kw of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[kw];
    if (Array.isArray(list)) more.push(...list);
  }
  for (const x of more) if (isObj(x)) out.push(...branches(root, resolveRef(root, x), depth + 1));
  return out;
}

/** The schema of the member at `pointer` (through `properties` and conditional branches). */
function schemaAt(root: Schema, schema: Schema, tokens: readonly string[]): Schema | undefined {
  let cur: Schema | undefined = resolveRef(root, schema);
  for (const t of tokens) {
    if (!cur) return undefined;
    const candidates = branches(root, cur, 0);
    let next: Schema | undefined;
    for (const c of candidates) {
      const props = c.properties;
      if (isObj(props) && isObj(props[t])) {
        next = resolveRef(root, props[t]);
        break;
      }
      if (isObj(c.items) && /^\d+$/.test(t)) {
        next = resolveRef(root, c.items);
        break;
      }
    }
    cur = next;
  }
  return cur;
}

/** The default the server applies at `pointer` (of the form schema), if any. */
export function defaultAt(schema: Schema, pointer: string): Json | undefined {
  return schemaAt(schema, schema, parsePointer(pointer))?.default as Json | undefined;
}

/** Pointers whose value differs between `before` and `after` (arrays compare as one value). */
export function changedPointers(before: unknown, after: unknown, prefix: string[] = []): string[] {
  // a new object (a branch the form just revealed) counts member by member
  if (before === undefined && isObj(after)) before = {};
  if (isObj(before) && isObj(after)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) out.push(...changedPointers(before[k], after[k], [...prefix, k]));
    return out;
  }
  return sameJson(before, after) ? [] : [formatPointer(prefix)];
}

/**
 * The part of an object's own default the server would not apply by itself to a partial object:
 * members equal to their definition's default are left out. Objects stay (present ≠ absent).
 */
function minimalSeed(schema: Schema | undefined, seed: JsonObject): JsonObject {
  const props = schema && isObj(schema.properties) ? schema.properties : {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(seed)) {
    const child = isObj(props[k]) ? props[k] : undefined;
    const own = child?.[PUSHED] === true ? child[SERVER_DEFAULT] : child?.default;
    if (own !== undefined && sameJson(v, own)) continue;
    out[k] = isObj(v) ? minimalSeed(child, v) : v;
  }
  return out;
}

function setIn(schema: Schema, config: JsonObject, tokens: readonly string[], value: Json): JsonObject {
  const root: JsonObject = { ...config };
  let cur: JsonObject = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    const existing = cur[t];
    let next: JsonObject;
    if (isObj(existing)) next = { ...existing };
    else {
      const at = schemaAt(schema, schema, tokens.slice(0, i + 1));
      next = at && isObj(at.default) ? minimalSeed(at, at.default) : {};
    }
    cur[t] = next;
    cur = next;
  }
  cur[tokens[tokens.length - 1]!] = value;
  return root;
}

function removeIn(config: JsonObject, tokens: readonly string[]): JsonObject {
  const [head, ...rest] = tokens;
  if (head === undefined || !(head in config)) return config;
  const out: JsonObject = { ...config };
  if (rest.length === 0) {
    delete out[head];
    return out;
  }
  const child = config[head];
  if (!isObj(child)) return config;
  const pruned = removeIn(child, rest);
  if (Object.keys(pruned).length === 0) delete out[head];
  else out[head] = pruned;
  return out;
}

/**
 * The stored config after a form change from `before` to `after` (both as the form shows them,
 * defaults included): only the members the user changed are written, and a value equal to the
 * server's default is removed instead.
 */
export function applyEdit(schema: Schema, config: JsonObject, before: JsonObject, after: JsonObject): JsonObject {
  let next = config;
  for (const pointer of changedPointers(before, after)) {
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) continue;
    const value = getAt(after, pointer) as Json | undefined;
    const dflt = defaultAt(schema, pointer);
    const current = getAt(next, pointer);
    if (value === undefined || (dflt !== undefined && sameJson(value, dflt) && !isObj(value))) {
      if (current !== undefined) next = removeIn(next, tokens);
    } else if (!sameJson(current, value)) {
      next = setIn(schema, next, tokens, value);
    }
  }
  return next;
}

/** The field titles along `pointer` (`AWS Connection Details › Region`), for messages. */
export function fieldTitles(schema: Schema, pointer: string): string {
  const tokens = parsePointer(pointer);
  const titles: string[] = [];
  for (let i = 1; i <= tokens.length; i++) {
    const at = schemaAt(schema, schema, tokens.slice(0, i));
    const t = tokens[i - 1]!;
    if (/^\d+$/.test(t)) titles.push(`#${Number(t) + 1}`);
    else titles.push(at && typeof at.title === 'string' ? at.title : t);
  }
  return titles.length === 0 ? 'configuration' : titles.join(' › ');
}
