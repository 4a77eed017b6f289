import { describe, expect, it } from 'vitest';
import { lambdaDescriptor } from '../test/fixtures';
import { stripWriteOnly, writeOnlyPointers } from './schema';

describe('write-only (secret) fields', () => {
  it('finds them through $ref', () => {
    expect(writeOnlyPointers(lambdaDescriptor.schema).sort()).toEqual(['/connection/secretKey', '/connection/sessionToken']);
  });

  it('strips them from a config, keeping everything else', () => {
    const config = { functionName: 'hello', connection: { region: 'eu-west-1', accessKey: 'AKIA', secretKey: 's3cr3t', sessionToken: 't' } };
    expect(stripWriteOnly(config, lambdaDescriptor.schema)).toEqual({ functionName: 'hello', connection: { region: 'eu-west-1', accessKey: 'AKIA' } });
  });

  it('looks inside if/then, dependencies and array items', () => {
    const schema = {
      type: 'object',
      properties: { list: { type: 'array', items: { type: 'object', properties: { pw: { type: 'string', writeOnly: true } } } } },
      if: { properties: { mode: { const: 'a' } } },
      then: { properties: { token: { type: 'string', writeOnly: true } } },
      dependencies: { user: { properties: { password: { type: 'string', 'x-sensitive': true } } } },
    };
    expect(stripWriteOnly({ mode: 'a', token: 'x', user: 'u', password: 'p', list: [{ pw: '1', keep: 2 }] }, schema)).toEqual({
      mode: 'a',
      user: 'u',
      list: [{ keep: 2 }],
    });
  });
});
