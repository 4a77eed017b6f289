import { describe, expect, it } from 'vitest';
import { jetStreamBadge, jetStreamTitle, partitionKeyProblem } from './transport';

describe('route transport texts', () => {
  it('accepts the partition keys flow.schema.json accepts, and says why it refuses others without quoting them', () => {
    for (const ok of ['', 'customerId', 'order.id', 'a:b-c_d', 'x'.repeat(128)]) expect(partitionKeyProblem(ok)).toBeNull();
    expect(partitionKeyProblem('customer id')).toMatch(/no spaces/);
    expect(partitionKeyProblem('ключ')).toMatch(/letters, digits/);
    expect(partitionKeyProblem('x'.repeat(129))).toMatch(/128/);
    expect(partitionKeyProblem('customer id')).not.toContain('customer id');
  });

  it('says what a JetStream route is, and by which property it is keyed', () => {
    expect(jetStreamTitle({ transport: 'jetstream' })).toBe('JetStream (durable, shared by workers)');
    expect(jetStreamTitle({ transport: 'jetstream', partitionKey: 'customerId' })).toBe('JetStream (durable, shared by workers), keyed by customerId');
    expect(jetStreamBadge({ transport: 'jetstream' })).toBe('JS');
    expect(jetStreamBadge({ transport: 'jetstream', partitionKey: 'customerId' })).toBe('JS · customerId');
    expect(jetStreamBadge({ transport: 'jetstream', partitionKey: 'a.very.long.property.name' })).toBe('JS · a.very.long.p…');
    // on a short wire the key stays in the tooltip, so that the wire stays visible
    expect(jetStreamBadge({ transport: 'jetstream', partitionKey: 'customerId' }, 170)).toBe('JS · customerId');
    expect(jetStreamBadge({ transport: 'jetstream', partitionKey: 'customerId' }, 100)).toBe('JS');
  });
});
