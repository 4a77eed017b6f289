import { describe, expect, it } from 'vitest';
import { defaultNodeName, flowIdProblem, nextNodeId, nextRouteId, slugify } from './ids';

describe('ids', () => {
  it('numbers nodes per type, after the highest in use', () => {
    expect(nextNodeId('lambda', [])).toBe('lambda1');
    expect(nextNodeId('lambda', ['lambda1', 'feeder1', 'lambda3'])).toBe('lambda4');
    expect(nextNodeId('display', ['lambda1', 'displayx'])).toBe('display1');
  });

  it('names routes like Fiorano: route1, route2…', () => {
    expect(nextRouteId([])).toBe('route1');
    expect(nextRouteId(['route1', 'route2', 'custom'])).toBe('route3');
  });

  it('checks flow ids against ^[a-z0-9][a-z0-9_-]{0,63}$', () => {
    expect(flowIdProblem('lambda-sync_demo1')).toBeNull();
    expect(flowIdProblem('')).toMatch(/Give the flow an id/);
    expect(flowIdProblem('Demo')).toMatch(/lower-case/);
    expect(flowIdProblem('-demo')).toMatch(/Start with/);
    expect(flowIdProblem('a b')).toMatch(/Use only/);
    expect(flowIdProblem('a'.repeat(65))).toMatch(/At most 64/);
    expect(flowIdProblem('a'.repeat(64))).toBeNull();
    expect(flowIdProblem('demo', ['demo'])).toMatch(/already exists/);
  });

  it('suggests an id from a name', () => {
    expect(slugify('Lambda sync demo')).toBe('lambda-sync-demo');
    expect(slugify('  Ünïcode & stuff!  ')).toBe('unicode-stuff');
  });

  it('numbers default names when taken', () => {
    expect(defaultNodeName('Display', [])).toBe('Display');
    expect(defaultNodeName('Display', ['Display', 'Display 2'])).toBe('Display 3');
  });
});
