import { describe, expect, it } from 'vitest';
import { demoFlow, descriptors } from '../test/fixtures';
import { issueHeadline } from './messages';

describe('messages about refused flows', () => {
  const components = new Map(descriptors.map((d) => [d.type, d]));
  it('name the node and the field by their titles, not by JSON pointer', () => {
    const text = issueHeadline({ byNode: { lambda1: [{ pointer: '/connection/region', inConfig: true, message: 'does not match the pattern' }] }, byEdge: {}, general: [] }, demoFlow, components)!;
    const lambda = demoFlow.nodes.find((n) => n.id === 'lambda1')!;
    expect(text.startsWith(`${lambda.name} › `)).toBe(true);
    expect(text).toMatch(/Region: does not match the pattern$/);
    expect(text).not.toContain('/connection');
  });

  it('drop the property key a validator puts before its message', () => {
    const text = issueHeadline({ byNode: { lambda1: [{ pointer: '/connection/region', inConfig: true, message: 'region: does not match' }] }, byEdge: {}, general: [] }, demoFlow, components)!;
    expect(text).toMatch(/Region: does not match$/);
    expect(text).not.toContain('region:');
  });
});
