import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportDocument } from '../lib/exportFlow';
import { demoFlow, descriptors } from '../test/fixtures';
import { ApiError, api, putBody } from './client';

afterEach(() => vi.unstubAllGlobals());

describe('saving and exporting', () => {
  it('PUT carries If-Match with the rev and leaves server bookkeeping out of the body', async () => {
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => {
      expect((init?.headers as Record<string, string>)['If-Match']).toBe('"3"');
      const body = JSON.parse(String(init?.body));
      expect(body.rev).toBeUndefined();
      expect(body.nodes[1].secretsSet).toBeUndefined();
      return new Response(JSON.stringify({ ...demoFlow, rev: '4' }), { status: 200 });
    });
    vi.stubGlobal('fetch', fetchMock);
    const res = await api.saveFlow(demoFlow, '3');
    expect(res.flow.rev).toBe('4');
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/flows/lambda-sync-demo');
  });

  it('a stale rev comes back as a conflict', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: 'stale rev', details: [] }), { status: 412 })));
    const err = await api.saveFlow(demoFlow, '1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).isConflict).toBe(true);
    expect((err as ApiError).message).toBe('stale rev');
  });

  it('422 details are kept for mapping onto fields', async () => {
    const details = [{ node: 'lambda1', pointer: '/nodes/1/config/maxConcurrency', message: 'too small' }];
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: 'flow is invalid', details }), { status: 422 })));
    const err = (await api.saveFlow(demoFlow).catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(422);
    expect(err.details).toEqual(details);
  });

  it('secretsClear is sent only when there is something to clear', () => {
    const body = putBody({ ...demoFlow, nodes: [{ ...demoFlow.nodes[1]!, secretsClear: ['/connection/secretKey'] }, demoFlow.nodes[0]!] });
    expect(body.nodes[0]!.secretsClear).toEqual(['/connection/secretKey']);
    expect('secretsClear' in body.nodes[1]!).toBe(false);
  });

  it('an export never contains secrets, revs or secret bookkeeping', () => {
    const withSecret = {
      ...demoFlow,
      nodes: demoFlow.nodes.map((n) => (n.id === 'lambda1' ? { ...n, config: { ...n.config, connection: { region: 'us-east-1', secretKey: 'shh', sessionToken: 'tok' } } } : n)),
    };
    const out = exportDocument(withSecret, new Map(descriptors.map((d) => [d.type, d])));
    const text = JSON.stringify(out);
    expect(text).not.toContain('shh');
    expect(text).not.toContain('tok');
    expect(text).not.toContain('secretsSet');
    expect(text).not.toContain('"rev"');
    expect(out.nodes[1]!.config).toEqual({ functionName: 'hello', connection: { region: 'us-east-1' } });
  });

  it('a network failure is reported plainly', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const err = (await api.listFlows().catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Cannot reach the lambdaflow server/);
  });
});
