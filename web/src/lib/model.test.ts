import { describe, expect, it } from 'vitest';
import { demoFlow } from '../test/fixtures';
import { flowToRf, isJetStream, parseFlowDocument, restoreSnapshot, rfToFlow, snapshotOf } from './model';

describe('flow ⇄ React Flow conversion', () => {
  it('maps ports to handle ids and back without loss', () => {
    const { nodes, edges } = flowToRf(demoFlow);
    expect(nodes.map((n) => n.id)).toEqual(['feeder1', 'lambda1', 'display1']);
    expect(nodes[1]!.data).toMatchObject({ type: 'lambda', name: 'LambdaConnector', secretsSet: ['/connection/secretKey'] });
    expect(edges[0]).toMatchObject({ id: 'route1', source: 'feeder1', sourceHandle: 'out', target: 'lambda1', targetHandle: 'in' });
    const back = rfToFlow({ id: demoFlow.id, name: demoFlow.name, description: demoFlow.description! }, nodes, edges);
    const { rev: _rev, ...withoutRev } = demoFlow;
    expect(back).toEqual(withoutRev);
  });

  it('marks routes leaving an error port so they are drawn distinctly', () => {
    const { edges } = flowToRf({
      nodes: [],
      edges: [{ id: 'route3', from: { node: 'lambda1', port: 'error' }, to: { node: 'display2', port: 'in' } }],
    });
    expect(edges[0]!.className).toBe('edge-error');
  });

  it('keeps a route\'s transport and partition key through the round trip, and omits local', () => {
    const flow = {
      nodes: [],
      edges: [
        { id: 'route1', from: { node: 'feeder1', port: 'out' }, to: { node: 'lambda1', port: 'in' }, transport: 'jetstream' as const, partitionKey: 'customerId' },
        { id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' }, transport: 'jetstream' as const },
        { id: 'route3', from: { node: 'lambda1', port: 'error' }, to: { node: 'display2', port: 'in' }, transport: 'local' as const },
      ],
    };
    const { edges } = flowToRf(flow);
    expect(edges.map((e) => isJetStream(e))).toEqual([true, true, false]);
    expect(edges[0]!.data).toEqual({ transport: 'jetstream', partitionKey: 'customerId' });
    const back = rfToFlow({ id: 'x', name: 'x' }, [], edges).edges;
    expect(back[0]).toEqual(flow.edges[0]);
    expect(back[1]).toEqual(flow.edges[1]);
    // "local" is the default: the file does not spell it out
    expect(back[2]).toEqual({ id: 'route3', from: { node: 'lambda1', port: 'error' }, to: { node: 'display2', port: 'in' } });
    expect(JSON.stringify(back[2])).not.toContain('transport');
  });

  it('an imported file keeps its routes\' transport and partition key', () => {
    const parsed = parseFlowDocument({
      id: 'f',
      nodes: [{ id: 'a', type: 'feeder' }, { id: 'b', type: 'display' }],
      edges: [{ id: 'route1', from: { node: 'a', port: 'out' }, to: { node: 'b', port: 'in' }, transport: 'jetstream', partitionKey: 'k' }],
    });
    if (!('flow' in parsed)) throw new Error(parsed.problem);
    expect(parsed.flow.edges[0]).toMatchObject({ transport: 'jetstream', partitionKey: 'k' });
  });

  it('rounds positions written back to the file', () => {
    const { nodes } = flowToRf(demoFlow);
    nodes[0]!.position = { x: 10.4, y: 20.6 };
    expect(rfToFlow({ id: 'x', name: 'x' }, nodes, []).nodes[0]!.position).toEqual({ x: 10, y: 21 });
  });

  it('restoring a snapshot keeps measurements and selection of surviving nodes', () => {
    const { nodes, edges } = flowToRf(demoFlow);
    const snap = snapshotOf({ id: 'a', name: 'a' }, nodes, edges);
    const current = nodes.map((n) => ({ ...n, measured: { width: 200, height: 80 }, selected: n.id === 'lambda1' }));
    const restored = restoreSnapshot(snap, current, edges);
    expect(restored.nodes[1]!.measured).toEqual({ width: 200, height: 80 });
    expect(restored.nodes[1]!.selected).toBe(true);
    expect(restored.nodes[0]!.selected).toBeUndefined();
  });
});

describe('importing a flow file', () => {
  it('accepts a flow document', () => {
    const r = parseFlowDocument(JSON.parse(JSON.stringify(demoFlow)));
    expect('flow' in r && r.flow.nodes).toHaveLength(3);
  });
  it('says what is missing', () => {
    expect(parseFlowDocument([])).toEqual({ problem: 'The file is not a JSON object.' });
    expect(parseFlowDocument({ nodes: [] })).toEqual({ problem: 'The flow has no "id".' });
    expect(parseFlowDocument({ id: 'x', nodes: [{ id: 'a' }] })).toEqual({ problem: 'nodes[0] needs an "id" and a "type".' });
    expect(parseFlowDocument({ id: 'x', nodes: [], edges: [{ id: 'r', from: {} }] })).toMatchObject({ problem: expect.stringContaining('edges[0]') });
  });
});
