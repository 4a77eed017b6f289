import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { demoFlow, descriptors } from './test/fixtures';
import { installReactFlowStubs } from './test/reactflow-jsdom';

type Listener = (ev: MessageEvent<string>) => void;

class FakeEventSource {
  static last: FakeEventSource | null = null;
  url: string;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  listeners = new Map<string, Listener[]>();
  closed = false;
  constructor(url: string) {
    this.url = url;
    FakeEventSource.last = this;
    setTimeout(() => this.onopen?.(), 0);
  }
  addEventListener(name: string, l: Listener) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), l]);
  }
  close() {
    this.closed = true;
  }
  emit(name: string, data: unknown) {
    for (const l of this.listeners.get(name) ?? []) l(new MessageEvent(name, { data: JSON.stringify(data) }));
  }
}

interface Call {
  method: string;
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

let calls: Call[] = [];
let putAnswer: () => Response;
let deployedFlow: typeof demoFlow | null = null;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeAll(() => installReactFlowStubs());

beforeEach(() => {
  calls = [];
  deployedFlow = null;
  putAnswer = () => json({ ...demoFlow, rev: '4' });
  window.location.hash = '#/flow/lambda-sync-demo';
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined, headers: (init?.headers ?? {}) as Record<string, string> });
      if (url === '/api/components') return json(descriptors);
      if (url === '/api/flows') return json([{ id: 'lambda-sync-demo', name: 'Lambda sync demo', rev: '3', state: 'stopped' }]);
      if (url === '/api/flows/lambda-sync-demo' && method === 'GET') return json(demoFlow);
      if (url === '/api/flows/lambda-sync-demo' && method === 'PUT') return putAnswer();
      if (url === '/api/flows/lambda-sync-demo/status') return json({ flow: 'lambda-sync-demo', state: 'stopped', nodes: {} });
      if (url.endsWith('/messages')) return json({ messages: [], total: 0 });
      if (url === '/api/flows/lambda-sync-demo/deploy' && method === 'POST') {
        deployedFlow = { ...demoFlow, rev: '4' };
        return json({ status: { flow: 'lambda-sync-demo', state: 'running', nodes: { lambda1: { state: 'running', received: 0, emitted: 0, errors: 0 } } }, rev: '4', restarted: false, unchanged: false });
      }
      if (url === '/api/flows/lambda-sync-demo/deploy') return json({ running: deployedFlow !== null, rev: deployedFlow?.rev ?? null, flow: deployedFlow });
      return json({ error: `unexpected ${method} ${url}`, details: [] }, 500);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  window.location.hash = '';
});

function renderApp() {
  return render(
    <ReactFlowProvider>
      <App />
    </ReactFlowProvider>,
  );
}

describe('designer app', () => {
  it('opens the flow named in the URL and draws its nodes with their ports', async () => {
    renderApp();
    const lambda = await screen.findByTestId('node-lambda1');
    expect(within(lambda).getByText('LambdaConnector')).toBeTruthy();
    expect(lambda.querySelector('[data-handleid="in"]')).not.toBeNull();
    expect(lambda.querySelector('[data-handleid="out"]')).not.toBeNull();
    expect(lambda.querySelector('[data-handleid="error"].lf-handle--error')).not.toBeNull();
    expect(screen.getByTestId('node-feeder1').querySelector('[data-handleid="in"]')).toBeNull();
    expect(screen.getByTestId('save-state').textContent).toBe('saved');
  });

  it('shows live status, counters and display messages from the event stream', async () => {
    renderApp();
    await screen.findByTestId('node-lambda1');
    await waitFor(() => expect(FakeEventSource.last?.url).toBe('/api/flows/lambda-sync-demo/events'));
    const es = FakeEventSource.last!;
    act(() => {
      es.emit('flow', { flow: 'lambda-sync-demo', state: 'running' });
      es.emit('status', { node: 'lambda1', state: 'running', received: 3, emitted: 2, errors: 1, lastError: { type: 'requestProcessing', code: 'Unhandled', message: 'boom' } });
      es.emit('message', { node: 'display1', message: { body: '"Hello, World!"', contentType: 'application/json', properties: {} } });
    });
    expect(screen.getByTestId('status-lambda1').textContent).toBe('running');
    expect(screen.getByTestId('received-lambda1').textContent).toBe('3');
    expect(screen.getByTestId('errors-lambda1').textContent).toBe('1');
    expect(within(screen.getByTestId('node-lambda1')).getByText(/Unhandled: boom/)).toBeTruthy();
    expect(within(screen.getByTestId('node-display1')).getByText('Hello, World!')).toBeTruthy();
    expect(screen.getByTestId('flow-state').textContent).toContain('running');
  });

  it('saves with If-Match and marks the node and field the server refuses', async () => {
    putAnswer = () => json({ error: 'flow is invalid', details: [{ node: 'lambda1', pointer: '/nodes/1/config/maxConcurrency', message: 'must be at least 1' }] }, 422);
    renderApp();
    await screen.findByTestId('node-lambda1');
    fireEvent.click(screen.getByTestId('save'));
    await waitFor(() => expect(screen.getByTestId('node-lambda1').className).toContain('is-invalid'));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.headers['If-Match']).toBe('"3"');
    expect(within(screen.getByTestId('node-lambda1')).getByText(/1 problem/)).toBeTruthy();
    // the inspector opens on the node, with the message on the field
    const issues = await screen.findByTestId('sheet-issues');
    expect(issues.textContent).toContain('must be at least 1');
  });

  it('offers reload or overwrite on a stale revision', async () => {
    putAnswer = () => json({ error: 'stale revision', details: [] }, 412);
    renderApp();
    await screen.findByTestId('node-lambda1');
    fireEvent.change(screen.getByTestId('flow-name'), { target: { value: 'Mine' } });
    fireEvent.click(screen.getByTestId('save'));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('changed on the server since you opened it');
    putAnswer = () => json({ ...demoFlow, name: 'Mine', rev: '9' });
    fireEvent.click(screen.getByTestId('conflict-overwrite'));
    await waitFor(() => expect(screen.getByTestId('save-state').textContent).toBe('saved'));
    const last = calls.filter((c) => c.method === 'PUT').at(-1)!;
    expect(last.headers['If-Match']).toBeUndefined();
  });

  it('undoes and redoes a rename with Ctrl+Z / Ctrl+Shift+Z', async () => {
    renderApp();
    await screen.findByTestId('node-lambda1');
    fireEvent.change(screen.getByTestId('flow-name'), { target: { value: 'Renamed' } });
    expect(screen.getByTestId('save-state').textContent).toContain('unsaved');
    fireEvent.keyDown(document.body, { key: 'z', ctrlKey: true });
    expect((screen.getByTestId('flow-name') as HTMLInputElement).value).toBe('Lambda sync demo');
    expect(screen.getByTestId('save-state').textContent).toBe('saved');
    fireEvent.keyDown(document.body, { key: 'Z', ctrlKey: true, shiftKey: true });
    expect((screen.getByTestId('flow-name') as HTMLInputElement).value).toBe('Renamed');
    fireEvent.keyDown(document.body, { key: 'z', ctrlKey: true });
    fireEvent.keyDown(document.body, { key: 'y', ctrlKey: true });
    expect((screen.getByTestId('flow-name') as HTMLInputElement).value).toBe('Renamed');
  });

  it('adds a component from the palette with the keyboard', async () => {
    renderApp();
    await screen.findByTestId('node-lambda1');
    fireEvent.click(screen.getByTestId('palette-lambda'));
    const added = await screen.findByTestId('node-lambda2');
    expect(within(added).getByText('LambdaConnector 2')).toBeTruthy();
    // and the inspector opens on it
    expect((await screen.findByTestId('node-name') as HTMLInputElement).value).toBe('LambdaConnector 2');
  });

  it('Deploy saves unsaved changes first, then deploys them', async () => {
    renderApp();
    await screen.findByTestId('node-lambda1');
    fireEvent.change(screen.getByTestId('flow-name'), { target: { value: 'Renamed' } });
    fireEvent.click(screen.getByTestId('deploy'));
    await waitFor(() => expect(screen.getByTestId('flow-state').textContent).toContain('running'));
    const order = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.url}`);
    expect(order).toEqual(['PUT /api/flows/lambda-sync-demo', 'POST /api/flows/lambda-sync-demo/deploy']);
  });
});
