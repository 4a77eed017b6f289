import { describe, expect, it } from 'vitest';
import { demoFlow } from '../test/fixtures';
import { readFlowFile } from './useImport';

describe('readFlowFile', () => {
  it('reads a flow', () => {
    const read = readFlowFile('demo.json', JSON.stringify(demoFlow));
    expect('flow' in read && read.flow.id).toBe('lambda-sync-demo');
  });

  it('says what is wrong with a file that is not a usable flow, naming the file', () => {
    expect(readFlowFile('a.json', '{nope')).toEqual({ problem: expect.stringMatching(/^“a.json” is not JSON/) });
    expect(readFlowFile('b.json', '[1]')).toEqual({ problem: expect.stringMatching(/^“b.json” is not a flow/) });
    expect(readFlowFile('c.json', JSON.stringify({ ...demoFlow, id: 'Not An Id!' }))).toEqual({ problem: expect.stringMatching(/^“c.json” has an unusable flow id/) });
  });
});
