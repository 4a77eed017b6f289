// JSON Pointer (RFC 6901) helpers.
import type { Json } from '../api/types';

export function parsePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return pointer === '/' ? [''] : [];
  if (!pointer.startsWith('/')) throw new Error(`not a JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function getAt(value: unknown, pointer: string): unknown {
  let cur: unknown = value;
  for (const t of parsePointer(pointer)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[t];
  }
  return cur;
}

/** Returns a copy of `value` with the member at `pointer` removed (objects only; arrays by index). */
export function removeAt<T extends Json>(value: T, pointer: string): T {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const rec = (cur: Json, i: number): Json => {
    if (cur === null || typeof cur !== 'object') return cur;
    const t = tokens[i]!;
    const last = i === tokens.length - 1;
    if (Array.isArray(cur)) {
      const idx = Number(t);
      if (!Number.isInteger(idx) || idx < 0 || idx >= cur.length) return cur;
      const copy = cur.slice();
      if (last) copy.splice(idx, 1);
      else copy[idx] = rec(cur[idx]!, i + 1);
      return copy;
    }
    if (!(t in cur)) return cur;
    const copy: { [k: string]: Json } = { ...cur };
    if (last) delete copy[t];
    else copy[t] = rec(cur[t]!, i + 1);
    return copy;
  };
  return rec(value, 0) as T;
}
