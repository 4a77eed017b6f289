import { describe, expect, it } from 'vitest';
import { initialRuntime, nodeBadge, parseFlowEvent, runtimeReducer, type RuntimeState } from './runtime';

function apply(state: RuntimeState, name: string, data: unknown): RuntimeState {
  const ev = parseFlowEvent(name, JSON.stringify(data));
  if (!ev) throw new Error(`unparsed ${name}`);
  return runtimeReducer(state, { type: 'event', event: ev });
}

describe('live events reducer', () => {
  it('tracks node status and counters', () => {
    let s = initialRuntime();
    s = apply(s, 'status', { node: 'lambda1', state: 'running', received: 3, emitted: 2, errors: 1, lastError: { type: 'requestProcessing', code: 'Unhandled', message: 'boom' } });
    expect(s.nodes.lambda1).toEqual({ state: 'running', received: 3, emitted: 2, errors: 1, lastError: { type: 'requestProcessing', code: 'Unhandled', message: 'boom' } });
    s = apply(s, 'flow', { flow: 'demo', state: 'running' });
    expect(s.flowState).toBe('running');
  });

  it('appends display messages, keeping only maxMessages', () => {
    let s = runtimeReducer(initialRuntime(), { type: 'limits', limits: { display1: 2 } });
    for (const body of ['a', 'b', 'c']) s = apply(s, 'message', { node: 'display1', message: { body } });
    expect(s.messages.display1!.items.map((m) => m.body)).toEqual(['b', 'c']);
    expect(s.messages.display1!.total).toBe(3);
    s = runtimeReducer(s, { type: 'clear', node: 'display1' });
    expect(s.messages.display1).toEqual({ items: [], total: 0 });
  });

  it('defaults to ten kept messages, and 0 means unlimited (capped for the browser)', () => {
    let s = initialRuntime();
    for (let i = 0; i < 12; i++) s = apply(s, 'message', { node: 'display9', message: { body: String(i) } });
    expect(s.messages.display9!.items).toHaveLength(10);
    s = runtimeReducer(s, { type: 'limits', limits: { display9: 0 } });
    for (let i = 0; i < 12; i++) s = apply(s, 'message', { node: 'display9', message: { body: String(i) } });
    expect(s.messages.display9!.items).toHaveLength(22);
  });

  it('keeps error records per node', () => {
    const s = apply(initialRuntime(), 'errorRecord', { node: 'lambda1', record: { error: { type: 'requestProcessing' } } });
    expect(s.errors.lambda1).toEqual([{ error: { type: 'requestProcessing' } }]);
  });

  it('merges a full status document', () => {
    const s = runtimeReducer(initialRuntime(), {
      type: 'status',
      status: { flow: 'demo', state: 'stopped', nodes: { feeder1: { state: 'stopped', received: 0, emitted: 5, errors: 0 } } },
    });
    expect(s.flowState).toBe('stopped');
    expect(s.nodes.feeder1!.emitted).toBe(5);
  });

  it('never takes EventSource’s own connection `error` for an error record', () => {
    expect(parseFlowEvent('error', JSON.stringify({ node: 'lambda1', record: {} }))).toBeNull();
  });

  it('a new run starts with the server’s empty Displays, not the last run’s messages', () => {
    let s = apply(initialRuntime(), 'flow', { flow: 'demo', state: 'running' });
    s = apply(s, 'message', { node: 'display1', message: { body: 'old' } });
    s = apply(s, 'errorRecord', { node: 'lambda1', record: { n: 1 } });
    s = apply(s, 'flow', { flow: 'demo', state: 'stopped' });
    expect(s.messages.display1!.items).toHaveLength(1); // kept while stopped, as on the server
    s = apply(s, 'flow', { flow: 'demo', state: 'running' });
    expect(s.messages.display1).toBeUndefined();
    expect(s.errors.lambda1).toBeUndefined();
    s = apply(s, 'message', { node: 'display1', message: { body: 'new' } });
    expect(s.messages.display1).toEqual({ items: [{ body: 'new' }], total: 1 });
    // the start answer (instead of the event) starts a run the same way
    s = apply(s, 'flow', { flow: 'demo', state: 'stopped' });
    s = runtimeReducer(s, { type: 'status', status: { flow: 'demo', state: 'running', nodes: {} }, asOf: s.seq });
    expect(s.messages.display1).toBeUndefined();
  });

  it('a node the running flow does not have is "not deployed", never "starting"', () => {
    const s = apply(initialRuntime(), 'flow', { flow: 'demo', state: 'running' });
    expect(nodeBadge(s, 'display9', false)).toBe('not deployed');
    expect(nodeBadge(s, 'display9', true)).toBe('starting');
    expect(nodeBadge(apply(s, 'flow', { flow: 'demo', state: 'stopped' }), 'display9', false)).toBe('idle');
  });

  it('ignores malformed or unknown events', () => {
    expect(parseFlowEvent('status', 'not json')).toBeNull();
    expect(parseFlowEvent('status', '{}')).toBeNull();
    expect(parseFlowEvent('bogus', '{"node":"a"}')).toBeNull();
    expect(parseFlowEvent('flow', '{"state":"exploded"}')).toBeNull();
  });
});

describe('answers racing the event stream', () => {
  const startAnswer = {
    flow: 'demo',
    state: 'running' as const,
    nodes: { lambda1: { state: 'starting' as const, received: 0, emitted: 0, errors: 0 }, feeder1: { state: 'running' as const, received: 0, emitted: 0, errors: 0 } },
  };

  it('an answer older than the events it crossed does not undo them', () => {
    let s = initialRuntime();
    const asOf = s.seq; // the start request is sent
    s = apply(s, 'status', { node: 'lambda1', state: 'running', received: 0, emitted: 0, errors: 0 });
    s = runtimeReducer(s, { type: 'status', status: startAnswer, asOf }); // its answer arrives late
    expect(s.nodes.lambda1!.state).toBe('running');
    expect(s.nodes.feeder1!.state).toBe('running');
    expect(s.flowState).toBe('running');
  });

  it('an answer newer than every event applies in full', () => {
    let s = apply(initialRuntime(), 'status', { node: 'lambda1', state: 'stopped', received: 0, emitted: 0, errors: 0 });
    s = apply(s, 'flow', { flow: 'demo', state: 'stopped' });
    s = runtimeReducer(s, { type: 'status', status: startAnswer, asOf: s.seq });
    expect(s.nodes.lambda1!.state).toBe('starting');
    expect(s.flowState).toBe('running');
  });

  it('a late flow answer does not undo a newer flow event', () => {
    let s = initialRuntime();
    const asOf = s.seq;
    s = apply(s, 'flow', { flow: 'demo', state: 'stopped' });
    s = runtimeReducer(s, { type: 'status', status: startAnswer, asOf });
    expect(s.flowState).toBe('stopped');
  });
});
