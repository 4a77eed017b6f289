import { describe, expect, it } from 'vitest';
import { demoFlow } from '../test/fixtures';
import { errorSchemaFor, fieldPointer, issueCount, issuesFromDetails, pruneChanged } from './issues';

describe('server error details → nodes and fields', () => {
  it('puts config errors on the node and field they name', () => {
    const issues = issuesFromDetails(
      [
        { node: 'lambda1', pointer: '/nodes/1/config/maxConcurrency', message: '0 is less than the minimum of 1' },
        { node: 'lambda1', pointer: '/nodes/1/config/connection/region', message: 'bad region' },
      ],
      demoFlow,
    );
    expect(issues.byNode.lambda1).toEqual([
      { pointer: '/maxConcurrency', inConfig: true, message: '0 is less than the minimum of 1' },
      { pointer: '/connection/region', inConfig: true, message: 'bad region' },
    ]);
    expect(errorSchemaFor(issues.byNode.lambda1)).toEqual({
      maxConcurrency: { __errors: ['0 is less than the minimum of 1'] },
      connection: { region: { __errors: ['bad region'] } },
    });
  });

  it('finds the node by index when the detail names none', () => {
    const issues = issuesFromDetails([{ node: null, pointer: '/nodes/2/config/maxMessages', message: 'too big' }], demoFlow);
    expect(issues.byNode.display1?.[0]?.pointer).toBe('/maxMessages');
  });

  it('moves "required property" errors onto the missing field', () => {
    const issues = issuesFromDetails(
      [{ node: 'lambda1', pointer: '/nodes/1/config', message: '"functionName" is a required property' }],
      { ...demoFlow, nodes: demoFlow.nodes.map((n) => (n.id === 'lambda1' ? { ...n, config: {} } : n)) },
    );
    expect(issues.byNode.lambda1?.[0]?.pointer).toBe('/functionName');
    expect(fieldPointer('/connection', "missing required property 'region'", { connection: {} })).toBe('/connection/region');
    expect(fieldPointer('/maxConcurrency', '"x" is a required property', { maxConcurrency: 3 })).toBe('/maxConcurrency');
  });

  it('keeps node-level, edge and flow-level errors apart', () => {
    const issues = issuesFromDetails(
      [
        { node: 'lambda1', pointer: '/nodes/1/name', message: 'too long' },
        { node: 'route2', pointer: '/edges/1/to/port', message: 'display1 has no port "foo"' },
        { node: null, pointer: '/edges/0', message: 'unknown node' },
        { node: null, pointer: '', message: 'flow is empty' },
        { node: 'lambda1', pointer: '', message: 'unknown type' },
      ],
      demoFlow,
    );
    expect(issues.byNode.lambda1).toEqual([
      { pointer: '', inConfig: false, message: 'name: too long' },
      { pointer: '', inConfig: false, message: 'unknown type' },
    ]);
    expect(issues.byEdge).toEqual({ route2: ['display1 has no port "foo"'], route1: ['unknown node'] });
    expect(issues.general).toEqual(['flow is empty']);
    expect(issueCount(issues)).toBe(5);
  });

  it('maps the component test route (pointers under /config)', () => {
    const issues = issuesFromDetails([{ node: null, pointer: '/config/maxConcurrency', message: 'too small' }], demoFlow, { config: 'lambda1' });
    expect(issues.byNode.lambda1).toEqual([{ pointer: '/maxConcurrency', inConfig: true, message: 'too small' }]);
  });

  it('decodes escaped pointer tokens', () => {
    const issues = issuesFromDetails([{ node: 'lambda1', pointer: '/nodes/1/config/a~1b/c~0d', message: 'x' }], demoFlow);
    expect(errorSchemaFor(issues.byNode.lambda1)).toEqual({ 'a/b': { 'c~d': { __errors: ['x'] } } });
  });

  it('drops an error once its field is edited', () => {
    const list = [
      { pointer: '/maxConcurrency', inConfig: true, message: 'too small' },
      { pointer: '/functionName', inConfig: true, message: 'required' },
      { pointer: '', inConfig: false, message: 'node error' },
    ];
    const left = pruneChanged(list, { maxConcurrency: 0 }, { maxConcurrency: 2 });
    expect(left.map((i) => i.message)).toEqual(['required', 'node error']);
  });
});
