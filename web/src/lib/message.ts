// How message bodies are checked before sending and shown after receiving.
import type { Message, Scalar } from '../api/types';

export function isJsonContentType(contentType: string | undefined | null): boolean {
  if (!contentType) return false;
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' || base === 'text/json' || base.endsWith('+json');
}

export interface JsonProblem {
  message: string;
  line?: number;
  column?: number;
}

/** Null when `text` is valid JSON; else what is wrong and, when known, where. */
export function checkJson(text: string): JsonProblem | null {
  if (text.trim() === '') return { message: 'The body is empty; a JSON body needs a value such as {} or "text".' };
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const raw = (e as Error).message;
    const problem: JsonProblem = { message: raw.replace(/^JSON\.parse: /, '') };
    const lc = /line (\d+) column (\d+)/.exec(raw);
    const pos = /position (\d+)/.exec(raw);
    if (lc) {
      problem.line = Number(lc[1]);
      problem.column = Number(lc[2]);
    } else if (pos) {
      const p = Number(pos[1]);
      const before = text.slice(0, p).split('\n');
      problem.line = before.length;
      problem.column = before[before.length - 1]!.length + 1;
    }
    return problem;
  }
}

export function base64ByteLength(b64: string): number {
  const clean = b64.replace(/\s+/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - pad);
}

export interface RenderedBody {
  kind: 'json' | 'text' | 'base64' | 'empty';
  text: string;
  /** For base64 bodies: the decoded size. */
  bytes?: number;
}

/** Pretty-prints JSON bodies (by content type, or when they parse as an object or array). */
export function renderBody(msg: Pick<Message, 'body' | 'bodyEncoding' | 'contentType'>): RenderedBody {
  const body = msg.body ?? '';
  if (msg.bodyEncoding === 'base64') return { kind: 'base64', text: body, bytes: base64ByteLength(body) };
  if (body === '') return { kind: 'empty', text: '' };
  const looksJson = /^\s*[[{]/.test(body);
  if (isJsonContentType(msg.contentType) || looksJson) {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(body), null, 2) };
    } catch {
      // not JSON after all: show it as text
    }
  }
  return { kind: 'text', text: body };
}

/** One line of the body for lists and node cards. */
export function preview(msg: Pick<Message, 'body' | 'bodyEncoding' | 'properties'>, max = 80): string {
  if (msg.bodyEncoding === 'base64') return `base64 · ${base64ByteLength(msg.body ?? '')} bytes`;
  if (isErrorMessage(msg)) {
    const summary = errorSummary(msg);
    if (summary) return clip(`✗ ${summary}`, max);
  }
  let text = msg.body ?? '';
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'string') text = parsed;
    else text = JSON.stringify(parsed);
  } catch {
    // plain text
  }
  return clip(text, max) || '(empty)';
}

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function formatTime(ts: string | undefined): string {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export type PropertyType = 'string' | 'number' | 'boolean' | 'null';

export interface PropertyRow {
  name: string;
  type: PropertyType;
  value: string;
}

export function rowsFromProperties(props: Record<string, Scalar> | undefined): PropertyRow[] {
  return Object.entries(props ?? {}).map(([name, v]) => ({
    name,
    type: v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string',
    value: v === null ? '' : String(v),
  }));
}

/** Turns the properties table into JSON scalars; reports the first row that does not fit its type. */
export function propertiesFromRows(rows: readonly PropertyRow[]): { properties: Record<string, Scalar> } | { problem: string } {
  const properties: Record<string, Scalar> = {};
  for (const [i, r] of rows.entries()) {
    const name = r.name.trim();
    if (name === '') {
      if (r.value.trim() === '') continue;
      return { problem: `Row ${i + 1} has a value but no name.` };
    }
    if (name in properties) return { problem: `Property "${name}" appears twice.` };
    switch (r.type) {
      case 'number': {
        const n = Number(r.value);
        if (r.value.trim() === '' || !Number.isFinite(n)) return { problem: `Property "${name}" is not a number.` };
        properties[name] = n;
        break;
      }
      case 'boolean':
        if (r.value !== 'true' && r.value !== 'false') return { problem: `Property "${name}" must be true or false.` };
        properties[name] = r.value === 'true';
        break;
      case 'null':
        properties[name] = null;
        break;
      default:
        properties[name] = r.value;
    }
  }
  return { properties };
}

/** True when the message came out of an error port (its properties carry `error.type`). */
export function isErrorMessage(msg: Pick<Message, 'properties'>): boolean {
  return msg.properties !== undefined && msg.properties !== null && 'error.type' in msg.properties;
}

/** "requestProcessing · Unhandled: boom" for an error record (design §6), or null. */
export function errorSummary(msg: Pick<Message, 'body' | 'bodyEncoding' | 'properties'>): string | null {
  if (msg.bodyEncoding === 'base64') return null;
  let record: unknown;
  try {
    record = JSON.parse(msg.body ?? '');
  } catch {
    return null;
  }
  if (record === null || typeof record !== 'object') return null;
  const err = (record as Record<string, unknown>).error;
  if (err === null || typeof err !== 'object') return null;
  const e = err as Record<string, unknown>;
  const head = [e.type, e.code].filter((x) => typeof x === 'string' && x !== '').join(' · ');
  const text = typeof e.message === 'string' ? e.message : '';
  if (!head && !text) return null;
  return head && text ? `${head}: ${text}` : head || text;
}
