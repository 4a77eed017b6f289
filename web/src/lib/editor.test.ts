import { describe, expect, it } from 'vitest';
import { demoFlow } from '../test/fixtures';
import { editorReducer, emptyEditor, isDirty, toFlowDocument, type EditorAction, type EditorState } from './editor';

function run(state: EditorState, ...actions: EditorAction[]): EditorState {
  return actions.reduce(editorReducer, state);
}

const loaded = () => run(emptyEditor(), { type: 'load', flow: demoFlow, saved: true });

describe('editor', () => {
  it('loads a saved flow clean, with its rev', () => {
    const s = loaded();
    expect(isDirty(s)).toBe(false);
    expect(s.rev).toBe('3');
    expect(toFlowDocument(s).nodes.map((n) => n.id)).toEqual(['feeder1', 'lambda1', 'display1']);
  });

  it('knows which nodes the server holds', () => {
    let s = loaded();
    expect(s.serverNodes).toEqual(['feeder1', 'lambda1', 'display1']);
    s = run(s, { type: 'addNode', componentType: 'display', title: 'Display', position: { x: 0, y: 0 } });
    expect(s.serverNodes).not.toContain('display2');
    s = run(s, { type: 'saved', flow: { ...demoFlow, nodes: [...demoFlow.nodes, { id: 'display2', type: 'display', name: 'D', position: { x: 0, y: 0 }, config: {} }] } });
    expect(s.serverNodes).toContain('display2');
  });

  it('a new, never saved flow is dirty', () => {
    const s = run(emptyEditor(), { type: 'load', flow: { id: 'x', name: 'x', nodes: [], edges: [] }, saved: false });
    expect(isDirty(s)).toBe(true);
  });

  it('adds nodes with per-type ids and numbered names, selecting only the new one', () => {
    let s = loaded();
    s = run(s, { type: 'addNode', componentType: 'lambda', title: 'LambdaConnector', position: { x: 1.4, y: 2.6 } });
    const added = s.nodes.at(-1)!;
    expect(added.id).toBe('lambda2');
    expect(added.data.name).toBe('LambdaConnector 2');
    expect(added.position).toEqual({ x: 1, y: 3 });
    expect(s.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['lambda2']);
    expect(isDirty(s)).toBe(true);
  });

  it('connects with route ids and marks error routes', () => {
    let s = loaded();
    s = run(s, { type: 'addNode', componentType: 'display', title: 'Display', position: { x: 0, y: 0 } });
    s = run(s, { type: 'connect', connection: { source: 'lambda1', sourceHandle: 'error', target: 'display2', targetHandle: 'in' } });
    const e = s.edges.at(-1)!;
    expect(e).toMatchObject({ id: 'route3', source: 'lambda1', sourceHandle: 'error', target: 'display2', className: 'edge-error' });
    expect(toFlowDocument(s).edges.at(-1)).toEqual({ id: 'route3', from: { node: 'lambda1', port: 'error' }, to: { node: 'display2', port: 'in' } });
  });

  it('deleting a node removes its routes, and one undo brings both back', () => {
    let s = loaded();
    s = run(s, { type: 'delete', nodeIds: ['lambda1'], edgeIds: [] });
    expect(s.nodes.map((n) => n.id)).toEqual(['feeder1', 'display1']);
    expect(s.edges).toEqual([]);
    s = run(s, { type: 'undo' });
    expect(s.nodes.map((n) => n.id)).toEqual(['feeder1', 'lambda1', 'display1']);
    expect(s.edges.map((e) => e.id)).toEqual(['route1', 'route2']);
    expect(isDirty(s)).toBe(false);
    s = run(s, { type: 'redo' });
    expect(s.nodes).toHaveLength(2);
  });

  it('a drag is one undo step however many moves it has', () => {
    let s = loaded();
    for (const x of [90, 120, 150]) {
      s = run(s, { type: 'nodesChange', changes: [{ type: 'position', id: 'feeder1', position: { x, y: 120 }, dragging: true }] });
    }
    s = run(s, { type: 'nodesChange', changes: [{ type: 'position', id: 'feeder1', dragging: false }] });
    expect(s.nodes[0]!.position.x).toBe(150);
    s = run(s, { type: 'undo' });
    expect(s.nodes[0]!.position).toEqual({ x: 80, y: 120 });
    expect(s.history.past).toHaveLength(0);
  });

  it('selection and measurement changes are not undo steps', () => {
    let s = loaded();
    s = run(s, { type: 'nodesChange', changes: [{ type: 'select', id: 'lambda1', selected: true }] });
    s = run(s, { type: 'nodesChange', changes: [{ type: 'dimensions', id: 'lambda1', dimensions: { width: 236, height: 100 } }] });
    expect(s.history.past).toHaveLength(0);
    expect(isDirty(s)).toBe(false);
  });

  it('removals reported by React Flow become one delete', () => {
    let s = loaded();
    s = run(s, { type: 'edgesChange', changes: [{ type: 'remove', id: 'route2' }] });
    expect(s.edges.map((e) => e.id)).toEqual(['route1']);
    s = run(s, { type: 'nodesChange', changes: [{ type: 'remove', id: 'display1' }] });
    expect(s.nodes.map((n) => n.id)).toEqual(['feeder1', 'lambda1']);
    expect(s.history.past).toHaveLength(2);
  });

  it('typing in the property sheet is one undo step and clears the edited field’s server error', () => {
    let s = loaded();
    s = run(s, {
      type: 'setIssues',
      issues: {
        byNode: {
          lambda1: [
            { pointer: '/maxConcurrency', inConfig: true, message: 'too small' },
            { pointer: '/functionName', inConfig: true, message: 'unknown' },
          ],
        },
        byEdge: {},
        general: [],
      },
    });
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'hello', maxConcurrency: 2 } });
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'hello', maxConcurrency: 20 } });
    expect(s.issues.byNode.lambda1!.map((i) => i.message)).toEqual(['unknown']);
    expect(s.history.past).toHaveLength(1);
    s = run(s, { type: 'undo' });
    expect(s.nodes[1]!.data.config).toEqual({ functionName: 'hello', connection: { region: 'us-east-1' } });
  });

  it('undoing the change the server refused clears its problem marker', () => {
    let s = loaded();
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'hello', connection: { region: 'us-east-1' }, maxConcurrency: -1 } });
    s = run(s, { type: 'connect', connection: { source: 'display1', sourceHandle: 'out', target: 'feeder1', targetHandle: 'in' } });
    const route = s.edges.at(-1)!.id;
    s = run(s, {
      type: 'setIssues',
      issues: { byNode: { lambda1: [{ pointer: '/maxConcurrency', inConfig: true, message: 'too small' }], feeder1: [{ pointer: '', inConfig: false, message: 'x' }] }, byEdge: { [route]: ['no input'] }, general: [] },
    });
    s = run(s, { type: 'undo' }); // the route goes
    expect(s.issues.byEdge).toEqual({});
    expect(s.issues.byNode.lambda1).toHaveLength(1);
    s = run(s, { type: 'undo' }); // maxConcurrency back to unset
    expect(s.issues.byNode.lambda1).toBeUndefined();
    expect(s.issues.byNode.feeder1).toHaveLength(1); // not about a field: stays until the next save
  });

  it('renames and edits flow metadata', () => {
    let s = loaded();
    s = run(s, { type: 'rename', nodeId: 'display1', name: 'Greetings' }, { type: 'setMeta', name: 'Renamed' });
    const doc = toFlowDocument(s);
    expect(doc.nodes[2]!.name).toBe('Greetings');
    expect(doc.name).toBe('Renamed');
  });

  it('marks a stored secret for removal and saves it clean', () => {
    let s = loaded();
    s = run(s, { type: 'clearSecret', nodeId: 'lambda1', pointer: '/connection/secretKey', clear: true });
    expect(toFlowDocument(s).nodes[1]!.secretsClear).toEqual(['/connection/secretKey']);
    const serverAnswer = { ...demoFlow, rev: '4', nodes: demoFlow.nodes.map((n) => (n.id === 'lambda1' ? { ...n, secretsSet: [] } : n)) };
    s = run(s, { type: 'saved', flow: serverAnswer });
    expect(s.rev).toBe('4');
    expect(s.nodes[1]!.data.secretsSet).toBeUndefined();
    expect(s.nodes[1]!.data.secretsClear).toBeUndefined();
    expect(isDirty(s)).toBe(false);
  });

  it('after a save the typed secret is gone from the config and the server lists it as set', () => {
    let s = loaded();
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'hello', connection: { region: 'us-east-1', secretKey: 'abc' } } });
    s = run(s, { type: 'saved', flow: { ...demoFlow, rev: '5' } });
    expect(s.nodes[1]!.data.config).toEqual({ functionName: 'hello', connection: { region: 'us-east-1' } });
    expect(s.nodes[1]!.data.secretsSet).toEqual(['/connection/secretKey']);
  });
});

describe('undo after a save', () => {
  it('never merges an edit made after the save with one made before it', () => {
    let s = run(emptyEditor(), { type: 'load', flow: demoFlow, saved: true });
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'fail' } });
    s = run(s, { type: 'saved', flow: { ...toFlowDocument(s), rev: '5' } });
    s = run(s, { type: 'setConfig', nodeId: 'lambda1', config: { functionName: 'fail', maxConcurrency: -1 } });
    s = run(s, { type: 'undo' });
    expect(s.nodes.find((n) => n.id === 'lambda1')!.data.config).toEqual({ functionName: 'fail' });
  });

  it('a route switched to JetStream and keyed is saved as the schema says; back to local drops both fields', () => {
    let s = loaded();
    s = run(s, { type: 'setEdge', edgeId: 'route2', transport: 'jetstream' });
    expect(isDirty(s)).toBe(true);
    expect(toFlowDocument(s).edges[1]).toEqual({ id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' }, transport: 'jetstream' });
    // typed a character at a time: one undo step
    for (const key of ['c', 'cu', 'cus', 'cust']) s = run(s, { type: 'setEdge', edgeId: 'route2', partitionKey: key });
    expect(toFlowDocument(s).edges[1]).toMatchObject({ transport: 'jetstream', partitionKey: 'cust' });
    s = run(s, { type: 'setEdge', edgeId: 'route2', partitionKey: '' });
    expect(toFlowDocument(s).edges[1]).not.toHaveProperty('partitionKey');
    s = run(s, { type: 'setEdge', edgeId: 'route2', partitionKey: 'cust' });
    s = run(s, { type: 'seal' });
    s = run(s, { type: 'setEdge', edgeId: 'route2', transport: 'local' });
    expect(toFlowDocument(s).edges[1]).toEqual({ id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' } });
    expect(isDirty(s)).toBe(false);
    s = run(s, { type: 'undo' });
    expect(toFlowDocument(s).edges[1]).toMatchObject({ transport: 'jetstream', partitionKey: 'cust' });
    s = run(s, { type: 'undo' });
    expect(toFlowDocument(s).edges[1]).toEqual({ id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' }, transport: 'jetstream' });
    s = run(s, { type: 'undo' });
    expect(toFlowDocument(s).edges[1]).not.toHaveProperty('transport');
    expect(isDirty(s)).toBe(false);
  });

  it('a partition key on a local route is not written, and an unchanged route is not an undo step', () => {
    let s = loaded();
    s = run(s, { type: 'setEdge', edgeId: 'route1', partitionKey: 'k' });
    expect(toFlowDocument(s).edges[0]).not.toHaveProperty('partitionKey');
    s = run(s, { type: 'setEdge', edgeId: 'route1', transport: 'local' });
    expect(s.history.past).toHaveLength(0);
  });

  it('editing a route drops the server\'s objections to it', () => {
    let s = loaded();
    s = run(s, { type: 'setIssues', issues: { byNode: {}, byEdge: { route2: ['partitionKey applies to JetStream routes only'] }, general: [] } });
    s = run(s, { type: 'setEdge', edgeId: 'route2', transport: 'jetstream' });
    expect(s.issues.byEdge.route2).toBeUndefined();
  });
});
