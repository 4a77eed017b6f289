import { getDefaultFormState, type RJSFSchema } from '@rjsf/utils';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../api/types';
import { validatorFor } from '../components/PropertySheet';
import { repoComponents } from '../test/repoSchemas';
import { applyEdit, changedPointers, defaultAt, formSchema } from './sheetData';

const lambda = repoComponents().find((c) => c.type === 'lambda')!;
const schema = formSchema(lambda.schema);
const errorHandlingFile = repoComponents().length > 0 ? (lambda.schema.$defs as JsonObject)["bundled_error-handling"] : undefined;

/** What the form shows for a stored config (defaults filled, as rjsf does). */
function shown(config: JsonObject): JsonObject {
  return getDefaultFormState(validatorFor('lambda'), schema as RJSFSchema, config, schema as RJSFSchema) as JsonObject;
}

/** One edit in the form: `change` applied to what it shows, then written back. */
function edit(config: JsonObject, change: (form: JsonObject) => void): JsonObject {
  const before = shown(config);
  const after = structuredClone(before);
  change(after);
  return applyEdit(schema, config, before, after);
}

const typeDefault = (type: string) => ((errorHandlingFile as JsonObject).properties as Record<string, JsonObject>)[type]!.default as JsonObject;

describe('the property sheet writes only what the user chose', () => {
  it('shows each error type with its own default, not the shared definition’s', () => {
    const form = shown({}) as { errorHandling: Record<string, { retry?: { maxAttempts?: number; enabled?: boolean } }> };
    expect(form.errorHandling.connection!.retry!.maxAttempts).toBe(5);
    expect(form.errorHandling.requestProcessing!.retry!.maxAttempts).toBe(3);
    // no retry policy for invalid requests: the form must not show one as on
    expect(form.errorHandling.invalidRequest!.retry?.enabled).not.toBe(true);
    expect(defaultAt(schema, '/errorHandling/connection/retry/maxAttempts')).toBe(5);
  });

  it('editing one field saves that field alone', () => {
    expect(edit({}, (f) => ((f.connection as JsonObject).region = 'eu-west-1'))).toEqual({ connection: { region: 'eu-west-1' } });
    expect(edit({}, (f) => (f.functionName = 'hello'))).toEqual({ functionName: 'hello' });
    const two = edit({ functionName: 'hello' }, (f) => (f.maxConcurrency = 2));
    expect(two).toEqual({ functionName: 'hello', maxConcurrency: 2 });
  });

  it('a value set back to its default is removed, with the objects it leaves empty', () => {
    const set = edit({}, (f) => ((f.connection as JsonObject).connectTimeoutMs = 500));
    expect(set).toEqual({ connection: { connectTimeoutMs: 500 } });
    const back = edit(set, (f) => ((f.connection as JsonObject).connectTimeoutMs = defaultAt(schema, '/connection/connectTimeoutMs')!));
    expect(back).toEqual({});
  });

  it('editing one flag of an error type keeps the rest of that type’s own defaults (schema file)', () => {
    const saved = edit({}, (f) => (((f.errorHandling as JsonObject).connection as JsonObject).stopService = true));
    const connection = (saved.errorHandling as JsonObject).connection as JsonObject;
    // only what the server would not apply by itself: the type's own retry count
    expect(connection).toEqual({ stopService: true, retry: { maxAttempts: (typeDefault('connection').retry as JsonObject).maxAttempts! } });
    expect((connection.retry as JsonObject).maxAttempts).toBe(5);
    // request processing keeps a retry policy (present), all of whose values are the definition's
    const rp = edit({}, (f) => (((f.errorHandling as JsonObject).requestProcessing as JsonObject).log = false));
    expect(rp).toEqual({ errorHandling: { requestProcessing: { log: false, retry: {} } } });
    expect(Object.keys(saved)).toEqual(['errorHandling']);
    expect(Object.keys(saved.errorHandling as JsonObject)).toEqual(['connection']);
  });

  it('a choice that reveals fields writes the choice, not the revealed fields’ defaults', () => {
    // rjsf fills the defaults of a branch a choice reveals (allOf: [{if, then}]); they are the
    // server's own, so only the choice itself is written
    for (const choice of [{ invocationType: 'ResponseStream' }, { outputMode: 'merge' }] as JsonObject[]) {
      expect(applyEdit(schema, {}, shown({}), shown(choice)), JSON.stringify(choice)).toEqual(choice);
    }
    expect(defaultAt(schema, '/maxResponseBytes')).toBe(20_971_520);
    expect(defaultAt(schema, '/mergeAt')).toBe('/lambda');
  });

  it('lists changed members, arrays as one value', () => {
    expect(changedPointers({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } })).toEqual(['/b/c']);
    expect(changedPointers({}, { x: { y: 1 } })).toEqual(['/x/y']);
  });
});
