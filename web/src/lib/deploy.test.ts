import { describe, expect, it } from 'vitest';
import type { FlowDocument } from '../api/types';
import { demoFlow } from '../test/fixtures';
import { deployDiff } from './deploy';

const clone = (f: FlowDocument): FlowDocument => structuredClone(f);

describe('changes since deploy', () => {
  it('marks nothing when the open flow is what runs, or when nothing runs', () => {
    expect([...deployDiff(demoFlow, clone(demoFlow)).changed]).toEqual([]);
    expect([...deployDiff(demoFlow, null).changed]).toEqual([]);
  });

  it('marks a node whose config changed, whatever the key order', () => {
    const edited = clone(demoFlow);
    edited.nodes[1]!.config = { ...edited.nodes[1]!.config, functionName: 'fail' };
    expect([...deployDiff(edited, demoFlow).changed]).toEqual(['lambda1']);
    const reordered = clone(demoFlow);
    reordered.nodes[1]!.config = Object.fromEntries(Object.entries(reordered.nodes[1]!.config).reverse());
    expect([...deployDiff(reordered, demoFlow).changed]).toEqual([]);
  });

  it('marks new nodes and both ends of a changed route; lists removed ones; ignores moves', () => {
    const edited = clone(demoFlow);
    edited.nodes.push({ id: 'display2', type: 'display', name: 'Errors', position: { x: 1, y: 1 }, config: {} });
    edited.edges.push({ id: 'route9', from: { node: 'lambda1', port: 'error' }, to: { node: 'display2', port: 'in' } });
    edited.nodes[0]!.position = { x: 999, y: 999 };
    edited.nodes[0]!.name = 'Renamed';
    expect([...deployDiff(edited, demoFlow).changed].sort()).toEqual(['display2', 'lambda1']);
    const fewer = clone(demoFlow);
    fewer.nodes = fewer.nodes.filter((n) => n.id !== 'display1');
    fewer.edges = fewer.edges.filter((e) => e.to.node !== 'display1');
    const diff = deployDiff(fewer, demoFlow);
    expect(diff.removed).toEqual(['display1']);
    expect([...diff.changed]).toEqual(['lambda1']);
  });

  it('marks both ends of a route whose transport or partition key changed', () => {
    const js = clone(demoFlow);
    js.edges[1]!.transport = 'jetstream';
    expect([...deployDiff(js, demoFlow).changed].sort()).toEqual(['display1', 'lambda1']);
    const keyed = clone(js);
    keyed.edges[1]!.partitionKey = 'customerId';
    expect([...deployDiff(keyed, js).changed].sort()).toEqual(['display1', 'lambda1']);
    expect([...deployDiff(keyed, clone(keyed)).changed]).toEqual([]);
  });
});
