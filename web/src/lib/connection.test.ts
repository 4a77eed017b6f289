import { describe, expect, it } from 'vitest';
import { descriptors } from '../test/fixtures';
import { connectionProblem, isValidConnection, refusalReason } from './connection';

const components = new Map(descriptors.map((d) => [d.type, d]));
const types: Record<string, string> = { feeder1: 'feeder', lambda1: 'lambda', display1: 'display', display2: 'display' };
const typeOf = (id: string) => types[id];

describe('connection validation', () => {
  it('accepts output → input', () => {
    expect(isValidConnection({ source: 'feeder1', sourceHandle: 'out', target: 'lambda1', targetHandle: 'in' }, typeOf, components)).toBe(true);
    expect(isValidConnection({ source: 'lambda1', sourceHandle: 'error', target: 'display2', targetHandle: 'in' }, typeOf, components)).toBe(true);
    expect(isValidConnection({ source: 'display1', sourceHandle: 'out', target: 'display2', targetHandle: 'in' }, typeOf, components)).toBe(true);
  });

  it('refuses input → input, output → output and unknown ports', () => {
    expect(connectionProblem({ source: 'lambda1', sourceHandle: 'in', target: 'display1', targetHandle: 'in' }, typeOf, components)).toMatch(/starts at an output/);
    expect(connectionProblem({ source: 'lambda1', sourceHandle: 'out', target: 'display1', targetHandle: 'out' }, typeOf, components)).toMatch(/ends at an input/);
    expect(connectionProblem({ source: 'lambda1', sourceHandle: 'out', target: 'feeder1', targetHandle: 'in' }, typeOf, components)).toMatch(/ends at an input/);
    expect(connectionProblem({ source: 'lambda1', sourceHandle: null, target: 'display1', targetHandle: 'in' }, typeOf, components)).toMatch(/output/);
  });

  it('refuses self loops, unknown nodes and duplicates', () => {
    expect(connectionProblem({ source: 'display1', sourceHandle: 'out', target: 'display1', targetHandle: 'in' }, typeOf, components)).toMatch(/itself/);
    expect(connectionProblem({ source: 'ghost', sourceHandle: 'out', target: 'display1', targetHandle: 'in' }, typeOf, components)).toMatch(/Unknown/);
    const existing = [{ source: 'feeder1', sourceHandle: 'out', target: 'lambda1', targetHandle: 'in' }];
    expect(connectionProblem({ source: 'feeder1', sourceHandle: 'out', target: 'lambda1', targetHandle: 'in' }, typeOf, components, existing)).toMatch(/already connected/);
  });
});

describe('why a wire was refused', () => {
  const end = (node: string, port: string, kind: 'source' | 'target') => ({ node, port, kind });
  it('says out→out, in→in, self-loop and duplicate in words', () => {
    expect(refusalReason(end('feeder1', 'out', 'source'), end('lambda1', 'out', 'source'), typeOf, components)).toMatch(/both outputs/);
    expect(refusalReason(end('display1', 'in', 'target'), end('lambda1', 'in', 'target'), typeOf, components)).toMatch(/both ends are inputs/);
    expect(refusalReason(end('lambda1', 'out', 'source'), end('lambda1', 'in', 'target'), typeOf, components)).toMatch(/cannot feed itself/);
    const existing = [{ source: 'feeder1', sourceHandle: 'out', target: 'lambda1', targetHandle: 'in' }];
    expect(refusalReason(end('feeder1', 'out', 'source'), end('lambda1', 'in', 'target'), typeOf, components, existing)).toMatch(/already connected/);
    // a drag from an input to an output is the same route, accepted
    expect(refusalReason(end('lambda1', 'in', 'target'), end('feeder1', 'out', 'source'), typeOf, components)).toBeNull();
  });
});
