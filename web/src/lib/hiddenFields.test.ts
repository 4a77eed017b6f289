// Values of fields a conditional schema hides are dropped from the config, on the repository's
// real LambdaConnector and Feeder schemas, so a save never fails on a field the user cannot see.
import type { RJSFSchema } from '@rjsf/utils';
import { describe, expect, it } from 'vitest';
import { validatorFor } from '../components/PropertySheet';
import { repoComponents } from '../test/repoSchemas';
import { dropHiddenFields } from './schema';

const byType = (t: string) => repoComponents().find((c) => c.type === t)!.schema as RJSFSchema;

describe('dropHiddenFields', () => {
  const lambda = byType('lambda');
  const drop = (data: Record<string, unknown>) => dropHiddenFields(validatorFor('lambda'), lambda, data as never);

  it('drops the invocation type once Async Invoke hides it', () => {
    expect(drop({ functionName: 'hello', asyncInvoke: true, invocationType: 'RequestResponse' })).toEqual({
      functionName: 'hello',
      asyncInvoke: true,
    });
  });

  it('keeps the invocation type while it is shown', () => {
    const data = { functionName: 'hello', asyncInvoke: false, invocationType: 'DryRun' };
    expect(drop(data)).toBe(data);
  });

  it('drops batching settings when the payload format is not v2, keeps them for v2', () => {
    const batch = { maxRecords: 5 };
    expect(drop({ functionName: 'f', payloadFormat: 'message', batch })).toEqual({ functionName: 'f', payloadFormat: 'message' });
    expect(drop({ functionName: 'f', payloadFormat: 'v2', batch })).toEqual({ functionName: 'f', payloadFormat: 'v2', batch });
  });

  it('leaves free-form maps alone (Feeder message properties)', () => {
    const data = { messages: [{ body: '{}', properties: { orderId: 42, region: 'eu' } }], sendOnStart: true };
    expect(dropHiddenFields(validatorFor('feeder'), byType('feeder'), data as never)).toBe(data);
  });
});
