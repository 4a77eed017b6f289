import { act, renderHook, waitFor } from '@testing-library/react';
import { useReducer, useRef } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DialogState } from '../components/AppDialogs';
import { editorReducer, emptyEditor, isDirty } from '../lib/editor';
import { initialRuntime, runtimeReducer } from '../lib/runtime';
import { demoFlow, descriptors } from '../test/fixtures';
import { useFlowActions } from './useFlowActions';

type Route = (method: string, body: unknown) => Response;
let routes: Record<string, Route>;
let calls: string[];

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  calls = [];
  routes = {};
  window.location.hash = '';
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${url}`);
      const route = routes[`${method} ${url}`];
      return route ? route(method, init?.body ? JSON.parse(String(init.body)) : undefined) : json({ error: 'unexpected', details: [] }, 500);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  window.location.hash = '';
});

function setup() {
  const toast = vi.fn();
  const dialogs: DialogState[] = [];
  const refreshFlows = vi.fn(async () => undefined);
  const refreshDeployed = vi.fn(async () => undefined);
  const hook = renderHook(() => {
    const [editor, dispatch] = useReducer(editorReducer, undefined, emptyEditor);
    const [runtime, rdispatch] = useReducer(runtimeReducer, undefined, initialRuntime);
    const runtimeRef = useRef(runtime);
    runtimeRef.current = runtime;
    const actions = useFlowActions({
      editor,
      dispatch,
      rdispatch,
      runtimeRef,
      byType: new Map(descriptors.map((d) => [d.type, d])),
      toast,
      onAuth: () => undefined,
      openDialog: (d) => dialogs.push(d),
      setTab: () => undefined,
      refreshFlows,
      refreshDeployed,
      fitSoon: () => undefined,
    });
    return { editor, dispatch, runtime, actions };
  });
  return { hook, toast, dialogs, refreshFlows, refreshDeployed };
}

async function loaded() {
  routes['GET /api/flows/lambda-sync-demo'] = () => json(demoFlow);
  const s = setup();
  await act(() => s.hook.result.current.actions.loadFlow('lambda-sync-demo'));
  expect(s.hook.result.current.editor.meta.id).toBe('lambda-sync-demo');
  expect(window.location.hash).toBe('#/flow/lambda-sync-demo');
  return s;
}

describe('useFlowActions', () => {
  it('says there is no such flow when opening one the server does not have', async () => {
    routes['GET /api/flows/gone'] = () => json({ error: 'no flow', details: [] }, 404);
    const { hook, toast } = setup();
    await act(() => hook.result.current.actions.loadFlow('gone'));
    expect(toast).toHaveBeenCalledWith('error', 'There is no flow “gone”.');
    expect(hook.result.current.actions.busy).toBeNull();
  });

  it('saves with the revision it opened and is clean afterwards', async () => {
    const s = await loaded();
    routes['PUT /api/flows/lambda-sync-demo'] = (_m, body) => json({ ...(body as object), rev: '4' });
    act(() => s.hook.result.current.dispatch({ type: 'rename', nodeId: 'lambda1', name: 'Greeter' }));
    expect(isDirty(s.hook.result.current.editor)).toBe(true);
    let ok = false;
    await act(async () => {
      ok = await s.hook.result.current.actions.save();
    });
    expect(ok).toBe(true);
    expect(s.hook.result.current.editor.rev).toBe('4');
    expect(isDirty(s.hook.result.current.editor)).toBe(false);
    expect(s.toast).toHaveBeenCalledWith('ok', 'Saved “Lambda sync demo”.');
  });

  it('asks what to do when someone else saved the flow first', async () => {
    const s = await loaded();
    routes['PUT /api/flows/lambda-sync-demo'] = () => json({ error: 'stale revision', details: [] }, 412);
    await act(() => s.hook.result.current.actions.save());
    expect(s.dialogs).toEqual([{ kind: 'conflict', status: 412 }]);
  });

  it('marks the problems of a refused save on the canvas and selects the first node', async () => {
    const s = await loaded();
    routes['PUT /api/flows/lambda-sync-demo'] = () => json({ error: 'invalid flow', details: [{ pointer: '/nodes/1/config/functionName', message: 'is required' }] }, 422);
    await act(() => s.hook.result.current.actions.save());
    expect(Object.keys(s.hook.result.current.editor.issues.byNode)).toEqual(['lambda1']);
    expect(s.hook.result.current.editor.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['lambda1']);
    expect(s.toast.mock.calls.at(-1)?.[1]).toMatch(/^Not saved: .*\(marked on the canvas\)$/);
  });

  it('opens the sheet of a route the server refused (only the route selected)', async () => {
    const s = await loaded();
    routes['PUT /api/flows/lambda-sync-demo'] = () => json({ error: 'invalid flow', details: [{ node: null, pointer: '/edges/1/partitionKey', message: 'does not match the pattern' }] }, 422);
    await act(() => s.hook.result.current.actions.save());
    expect(s.hook.result.current.editor.issues.byEdge).toEqual({ route2: ['does not match the pattern'] });
    expect(s.hook.result.current.editor.edges.filter((e) => e.selected).map((e) => e.id)).toEqual(['route2']);
    expect(s.hook.result.current.editor.nodes.filter((n) => n.selected)).toEqual([]);
  });

  it('deploys an edited flow by saving it first, then reads the running version', async () => {
    const s = await loaded();
    routes['PUT /api/flows/lambda-sync-demo'] = (_m, body) => json({ ...(body as object), rev: '4' });
    routes['POST /api/flows/lambda-sync-demo/deploy'] = () =>
      json({ status: { flow: 'lambda-sync-demo', state: 'running', nodes: {} }, rev: '4', restarted: true, unchanged: false });
    act(() => s.hook.result.current.dispatch({ type: 'rename', nodeId: 'lambda1', name: 'Greeter' }));
    await act(() => s.hook.result.current.actions.deploy());
    const mine = calls.filter((c) => !c.startsWith('GET'));
    expect(mine).toEqual(['PUT /api/flows/lambda-sync-demo', 'POST /api/flows/lambda-sync-demo/deploy']);
    expect(s.hook.result.current.runtime.flowState).toBe('running');
    expect(s.refreshDeployed).toHaveBeenCalled();
    expect(s.toast).toHaveBeenLastCalledWith('ok', 'Deployed: the flow restarted with your changes.');
  });

  it('names the nodes a deploy gave their new config without restarting the flow', async () => {
    const s = await loaded();
    routes['POST /api/flows/lambda-sync-demo/deploy'] = () =>
      json({ status: { flow: 'lambda-sync-demo', state: 'running', nodes: {} }, rev: '5', restarted: false, unchanged: false, redeployed: ['lambda1'] });
    await act(() => s.hook.result.current.actions.deploy());
    const name = s.hook.result.current.editor.nodes.find((n) => n.id === 'lambda1')?.data.name;
    expect(name).toBeTruthy();
    expect(s.toast).toHaveBeenLastCalledWith('ok', `Deployed: ${name} took the new config; the rest ran on.`);
    routes['POST /api/flows/lambda-sync-demo/deploy'] = () =>
      json({ status: { flow: 'lambda-sync-demo', state: 'running', nodes: {} }, rev: '6', restarted: false, unchanged: false, redeployed: [] });
    await act(() => s.hook.result.current.actions.deploy());
    expect(s.toast).toHaveBeenLastCalledWith('ok', 'Deployed: nothing that runs changed.');
  });

  it('says a flow deployed to JetStream workers runs there, not in the server', async () => {
    const s = await loaded();
    routes['POST /api/flows/lambda-sync-demo/deploy'] = () =>
      json({ status: { flow: 'lambda-sync-demo', state: 'stopped', nodes: {} }, rev: '3', restarted: false, unchanged: false, workers: { revision: 7 } });
    await act(() => s.hook.result.current.actions.deploy());
    expect(s.hook.result.current.runtime.flowState).toBe('stopped');
    expect(s.toast).toHaveBeenLastCalledWith('ok', 'Deployed to the workers (revision 7): workers following this flow (lambdaflow worker --flow-id lambda-sync-demo) run it.');
  });

  it('asks before dropping unsaved changes to open another flow', async () => {
    const s = await loaded();
    act(() => s.hook.result.current.dispatch({ type: 'rename', nodeId: 'lambda1', name: 'Greeter' }));
    act(() => s.hook.result.current.actions.openFlow('other'));
    expect(s.dialogs.map((d) => d.kind)).toEqual(['discard']);
    expect(calls).not.toContain('GET /api/flows/other');
  });

  it('creates a flow and stores it at once', async () => {
    routes['PUT /api/flows/fresh'] = (_m, body) => json({ ...(body as object), rev: '1' }, 201);
    const { hook, refreshFlows } = setup();
    act(() => hook.result.current.actions.createFlow('fresh', 'Fresh'));
    expect(hook.result.current.editor.meta).toMatchObject({ id: 'fresh', name: 'Fresh' });
    await waitFor(() => expect(hook.result.current.editor.rev).toBe('1'));
    expect(refreshFlows).toHaveBeenCalled();
  });

  it('closes the open flow when it is deleted', async () => {
    const s = await loaded();
    routes['DELETE /api/flows/lambda-sync-demo'] = () => new Response(null, { status: 204 });
    await act(() => s.hook.result.current.actions.deleteFlow('lambda-sync-demo'));
    expect(s.hook.result.current.editor.meta.id).toBe('');
    expect(s.toast).toHaveBeenCalledWith('info', 'Deleted “lambda-sync-demo”.');
  });
});
