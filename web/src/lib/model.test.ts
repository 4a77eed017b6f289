import { describe, expect, it } from 'vitest';
import { demoFlow } from '../test/fixtures';
import { flowToRf, parseFlowDocument, restoreSnapshot, rfToFlow, snapshotOf } from './model';

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
