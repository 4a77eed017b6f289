import { describe, expect, it } from 'vitest';
import { base64ByteLength, errorSummary, checkJson, isErrorMessage, isJsonContentType, preview, propertiesFromRows, renderBody, rowsFromProperties } from './message';

describe('message bodies', () => {
  it('knows JSON content types', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/cloudevents+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });

  it('checks JSON and says where it breaks', () => {
    expect(checkJson('{"name": "World"}')).toBeNull();
    const p = checkJson('{\n  "name": "World",\n}');
    expect(p).not.toBeNull();
    expect(p!.line).toBe(3);
    expect(checkJson('  ')?.message).toMatch(/empty/);
  });

  it('pretty-prints JSON, keeps text, labels base64', () => {
    expect(renderBody({ body: '{"a":1}', contentType: 'application/json' })).toEqual({ kind: 'json', text: '{\n  "a": 1\n}' });
    expect(renderBody({ body: '[1,2]' })).toEqual({ kind: 'json', text: '[\n  1,\n  2\n]' });
    expect(renderBody({ body: 'Hello, World!', contentType: 'text/plain' })).toEqual({ kind: 'text', text: 'Hello, World!' });
    expect(renderBody({ body: 'not json', contentType: 'application/json' })).toEqual({ kind: 'text', text: 'not json' });
    expect(renderBody({ body: '/w==', bodyEncoding: 'base64' })).toEqual({ kind: 'base64', text: '/w==', bytes: 1 });
    expect(base64ByteLength('AAAA')).toBe(3);
  });

  it('previews on one line, unquoting JSON strings', () => {
    expect(preview({ body: '"Hello, World!"' })).toBe('Hello, World!');
    expect(preview({ body: '{\n "a": 1\n}' })).toBe('{"a":1}');
    expect(preview({ body: 'x'.repeat(100) }, 10)).toBe('xxxxxxxxx…');
    expect(preview({ body: 'AAAA', bodyEncoding: 'base64' })).toBe('base64 · 3 bytes');
  });

  it('turns the properties table into JSON scalars', () => {
    expect(
      propertiesFromRows([
        { name: 'orderId', type: 'number', value: '42' },
        { name: 'urgent', type: 'boolean', value: 'true' },
        { name: 'who', type: 'string', value: 'me' },
        { name: '', type: 'string', value: '' },
      ]),
    ).toEqual({ properties: { orderId: 42, urgent: true, who: 'me' } });
    expect(propertiesFromRows([{ name: 'n', type: 'number', value: 'abc' }])).toEqual({ problem: 'Property "n" is not a number.' });
    expect(propertiesFromRows([{ name: 'a', type: 'string', value: '1' }, { name: 'a', type: 'string', value: '2' }])).toMatchObject({ problem: expect.stringMatching(/twice/) });
    expect(rowsFromProperties({ a: 1, b: null })).toEqual([
      { name: 'a', type: 'number', value: '1' },
      { name: 'b', type: 'null', value: '' },
    ]);
  });

  it('recognises error records by their error.type property', () => {
    expect(isErrorMessage({ properties: { 'error.type': 'requestProcessing' } })).toBe(true);
    expect(isErrorMessage({ properties: {} })).toBe(false);
  });
});

describe('error records', () => {
  const record = {
    body: JSON.stringify({ version: '1.0', error: { type: 'requestProcessing', code: 'Unhandled', message: 'boom' } }),
    properties: { 'error.type': 'requestProcessing', 'error.code': 'Unhandled' },
  };
  it('summarises the error', () => {
    expect(errorSummary(record)).toBe('requestProcessing · Unhandled: boom');
    expect(errorSummary({ body: '{"a":1}' })).toBeNull();
    expect(errorSummary({ body: 'nope' })).toBeNull();
  });
  it('previews an error record by its error', () => {
    expect(preview(record)).toBe('✗ requestProcessing · Unhandled: boom');
  });
});
