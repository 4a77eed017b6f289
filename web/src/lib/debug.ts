// The debug sidebar's stream (Node-RED's debug tab): everything every Display receives and every
// error record any node routes, newest last, with the Lambda facts of each entry pulled out.
import type { FlowEvent, Json, JsonObject, Message } from '../api/types';

export interface DebugEntry {
  seq: number;
  node: string;
  /** `message`: a Display received it; `error`: a node routed an error record. */
  kind: 'message' | 'error';
  message?: Message;
  record?: JsonObject;
}

export const DEBUG_KEPT = 500;

function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Adds what an event carries to the stream (status and flow events carry nothing to show). */
export function debugReducer(state: DebugEntry[], event: FlowEvent): DebugEntry[] {
  const seq = (state.at(-1)?.seq ?? 0) + 1;
  let entry: DebugEntry | null = null;
  if (event.kind === 'message') entry = { seq, node: event.data.node, kind: 'message', message: event.data.message };
  else if (event.kind === 'error') entry = { seq, node: event.data.node, kind: 'error', record: event.data.record };
  if (!entry) return state;
  const next = [...state, entry];
  return next.length > DEBUG_KEPT ? next.slice(next.length - DEBUG_KEPT) : next;
}

/** The entry's value as JSON: the error record, or the message's body parsed when it is JSON. */
export function entryValue(e: DebugEntry): Json {
  if (e.record) return e.record;
  const body = e.message?.body ?? '';
  if (e.message?.bodyEncoding !== 'base64') {
    try {
      return JSON.parse(body) as Json;
    } catch {
      // text
    }
  }
  return body;
}

/** The error record an entry carries: the routed record, or a Display's message holding one. */
function recordOf(e: DebugEntry): JsonObject | null {
  if (e.record) return e.record;
  const v = entryValue(e);
  return isObj(v) && isObj(v.error) && isObj(v.component) ? v : null;
}

export interface LambdaFacts {
  request?: Json;
  response?: Json;
  facts: [string, string][];
}

/**
 * Request, response and the invocation's facts (requestId, version, attempts, log tail, throttle).
 * `invokes` tells whether a component type calls a service (its descriptor's capability): an error
 * record of such a component has these facts even without a request context.
 */
export function lambdaFacts(e: DebugEntry, invokes: (type: string) => boolean = () => false): LambdaFacts | null {
  const rec = recordOf(e);
  const props = e.message?.properties ?? {};
  const facts: [string, string][] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') facts.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  };
  if (rec) {
    const req = isObj(rec.requestContext) ? rec.requestContext : {};
    const res = isObj(rec.responseContext) ? rec.responseContext : {};
    const err = isObj(rec.error) ? rec.error : {};
    if (!isObj(rec.requestContext) && !(isObj(rec.component) && typeof rec.component.type === 'string' && invokes(rec.component.type))) return null;
    add('function', req.functionName);
    add('qualifier', req.qualifier);
    add('error', `${String(err.type ?? '')} / ${String(err.code ?? '')}`);
    add('condition', rec.condition);
    add('attempts', req.approximateInvokeCount);
    add('requestId', req.requestId);
    add('status', res.statusCode);
    add('executedVersion', res.executedVersion);
    add('functionError', res.functionError);
    const payload = isObj(rec.responsePayload) ? rec.responsePayload : {};
    if (/TooManyRequests|Throttl/i.test(String(err.code ?? ''))) add('throttle reason', payload.Reason ?? payload.message ?? err.message);
    add('log tail', props['lambda.logResult']);
    return { request: rec.requestPayload as Json | undefined, response: rec.responsePayload as Json | undefined, facts };
  }
  if (props['lambda.statusCode'] === undefined && props['lambda.functionName'] === undefined) return null;
  add('function', props['lambda.functionName']);
  add('qualifier', props['lambda.qualifier']);
  add('status', props['lambda.statusCode']);
  add('requestId', props['lambda.requestId']);
  add('executedVersion', props['lambda.executedVersion']);
  add('invocation', props['lambda.invocationType']);
  add('log tail', props['lambda.logResult']);
  return { response: entryValue(e), facts };
}

/** A readable path to a member: `error.code`, `items[2].name`, `["odd key"]`. */
export function pathText(tokens: readonly (string | number)[]): string {
  return tokens
    .map((t, i) => (typeof t === 'number' ? `[${t}]` : /^[A-Za-z_$][\w$]*$/.test(t) ? `${i === 0 ? '' : '.'}${t}` : `[${JSON.stringify(t)}]`))
    .join('');
}
