import { describe, expect, it } from 'vitest';
import { debugReducer, entryValue, lambdaFacts, pathText, type DebugEntry } from './debug';

const errorRecord = {
  version: '1.0',
  condition: 'RetriesExhausted',
  error: { type: 'requestProcessing', code: 'TooManyRequestsException', message: 'Rate exceeded', retryable: true },
  component: { flow: 'demo', node: 'lambda1', type: 'lambda' },
  requestContext: { functionName: 'hello', invocationType: 'RequestResponse', requestId: 'r-1', approximateInvokeCount: 3 },
  responseContext: { statusCode: 429 },
  requestPayload: { name: 'World' },
  responsePayload: { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate exceeded' },
};

describe('debug stream', () => {
  it('keeps every Display message and every error record, in order, and nothing else', () => {
    let s: DebugEntry[] = [];
    s = debugReducer(s, { kind: 'status', data: { node: 'lambda1', state: 'running', received: 1, emitted: 0, errors: 0 } });
    s = debugReducer(s, { kind: 'message', data: { node: 'display1', message: { body: '{"greeting":"Hello, World!"}', properties: { 'lambda.statusCode': 200, 'lambda.functionName': 'hello', 'lambda.executedVersion': '$LATEST' } } } });
    s = debugReducer(s, { kind: 'error', data: { node: 'lambda1', record: errorRecord } });
    expect(s.map((e) => [e.seq, e.node, e.kind])).toEqual([
      [1, 'display1', 'message'],
      [2, 'lambda1', 'error'],
    ]);
    expect(entryValue(s[0]!)).toEqual({ greeting: 'Hello, World!' });
  });

  it('pulls out the Lambda facts side by side: request, response, attempts, requestId, throttle reason', () => {
    const f = lambdaFacts({ seq: 1, node: 'lambda1', kind: 'error', record: errorRecord })!;
    expect(f.request).toEqual({ name: 'World' });
    expect(f.response).toEqual(errorRecord.responsePayload);
    const facts = Object.fromEntries(f.facts);
    expect(facts.attempts).toBe('3');
    expect(facts.requestId).toBe('r-1');
    expect(facts['throttle reason']).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    const ok = lambdaFacts({ seq: 2, node: 'display1', kind: 'message', message: { body: '{"a":1}', properties: { 'lambda.statusCode': 200, 'lambda.executedVersion': '3', 'lambda.logResult': 'START…' } } })!;
    expect(Object.fromEntries(ok.facts)).toMatchObject({ status: '200', executedVersion: '3', 'log tail': 'START…' });
    expect(lambdaFacts({ seq: 3, node: 'display1', kind: 'message', message: { body: 'plain' } })).toBeNull();
  });

  it('writes copyable paths', () => {
    expect(pathText(['error', 'code'])).toBe('error.code');
    expect(pathText(['items', 2, 'odd key'])).toBe('items[2]["odd key"]');
  });
});

describe('debug facts by capability', () => {
  it('finds the facts of an error record without a request context only for a component that invokes', () => {
    const { requestContext: _r, ...bare } = errorRecord;
    void _r;
    const entry: DebugEntry = { seq: 1, node: 'lambda1', kind: 'error', record: bare };
    expect(lambdaFacts(entry, (type) => type === 'lambda')?.request).toEqual({ name: 'World' });
    expect(lambdaFacts(entry, () => false)).toBeNull();
  });
});
