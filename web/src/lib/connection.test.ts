import { describe, expect, it } from 'vitest';
import { descriptors } from '../test/fixtures';
import { connectionProblem, isValidConnection } from './connection';

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
