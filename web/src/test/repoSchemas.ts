// Loads the component schemas and uiSchemas of this repository (component-schema/, ui-forms/) as
// `GET /api/components` serves them: external `$ref`s to sibling schema files bundled into `$defs`.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../api/types';

// vitest provides __dirname in test modules (jsdom gives import.meta.url an http: scheme)
const root = path.resolve(__dirname, '..', '..', '..');
const schemaDir = path.join(root, 'component-schema');
const formsDir = path.join(root, 'ui-forms');

function read(file: string): JsonObject {
  return JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
}

function rewrite(value: unknown, fn: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, fn));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === '$ref' && typeof v === 'string' ? fn(v) : rewrite(v, fn);
  return out;
}

/** Bundles `other.schema.json#/…` references of `schema` into its `$defs`. */
export function bundle(schema: JsonObject, seen: Set<string> = new Set()): JsonObject {
  const defs: Record<string, unknown> = { ...((schema.$defs as JsonObject | undefined) ?? {}) };
  const bundled = rewrite(schema, (ref) => {
    const m = /^([A-Za-z0-9_.-]+\.schema\.json)(#.*)?$/.exec(ref);
    if (!m) return ref;
    const name = m[1]!.replace(/\.schema\.json$/, '');
    const key = `bundled_${name}`;
    if (!seen.has(name)) {
      seen.add(name);
      const other = read(path.join(schemaDir, m[1]!));
      const { $id: _i, $schema: _s, ...rest } = other;
      void _i;
      void _s;
      defs[key] = rewrite(bundle(rest as JsonObject, seen), (r) => (r.startsWith('#/') ? `#/$defs/${key}/${r.slice(2)}` : r));
    }
    const fragment = m[2] && m[2] !== '#' ? m[2].slice(1) : '';
    return `#/$defs/${key}${fragment}`;
  }) as JsonObject;
  if (Object.keys(defs).length > 0) bundled.$defs = defs as JsonObject;
  return bundled;
}

export interface RepoComponent {
  type: string;
  schema: JsonObject;
  uiSchema: JsonObject;
}

/** Every component of the repository (a schema with a uiSchema beside it). */
export function repoComponents(): RepoComponent[] {
  if (!existsSync(schemaDir)) return [];
  return readdirSync(schemaDir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => f.replace(/\.schema\.json$/, ''))
    .filter((type) => existsSync(path.join(formsDir, `${type}.ui.json`)))
    .map((type) => ({ type, schema: bundle(read(path.join(schemaDir, `${type}.schema.json`))), uiSchema: read(path.join(formsDir, `${type}.ui.json`)) }));
}
