import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayPanel } from './DisplayPanel';
import { FeederPanel } from './FeederPanel';

afterEach(() => vi.unstubAllGlobals());

function stubFetch() {
  const calls: { url: string; method: string; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      calls.push({ url, method, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (method === 'POST') return new Response(JSON.stringify({ accepted: (JSON.parse(String(init!.body)) as { count?: number }).count ?? 1 }), { status: 202 });
      return new Response(
        JSON.stringify({ messages: [{ id: 'm1', timestamp: '2026-11-23T10:15:00.123Z', contentType: 'text/plain', body: 'earlier', bodyEncoding: 'utf8', properties: { a: 1 } }], total: 4 }),
        { status: 200 },
      );
    }),
  );
  return calls;
}

describe('Feeder panel', () => {
  it('checks JSON when the content type is JSON, and says where it breaks', async () => {
    stubFetch();
    render(<FeederPanel flowId="demo" nodeId="feeder1" config={{}} running saved onStart={() => undefined} />);
    const body = screen.getByTestId('feeder-body');
    fireEvent.change(body, { target: { value: '{"name": "World",\n}' } });
    expect(screen.getByTestId('feeder-json-state').textContent).toMatch(/Not valid JSON \(line 2, column 1\)/);
    expect((screen.getByTestId('feeder-send') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId('feeder-content-type'), { target: { value: 'text/plain' } });
    expect(screen.getByTestId('feeder-json-state').textContent).toMatch(/Sent as text/);
    expect((screen.getByTestId('feeder-send') as HTMLButtonElement).disabled).toBe(false);
  });

  it('starts from the default message of the schema and sends body, content type and typed properties', async () => {
    const calls = stubFetch();
    render(<FeederPanel flowId="demo" nodeId="feeder1" config={{}} schema={{ properties: { messages: { default: [{ body: '{"name": "World"}', contentType: 'application/json' }] } } }} running saved onStart={() => undefined} />);
    expect((screen.getByTestId('feeder-body') as HTMLTextAreaElement).value).toBe('{"name": "World"}');
    await userEvent.click(screen.getByRole('button', { name: '+ Add property' }));
    fireEvent.change(screen.getByLabelText('Property 1 name'), { target: { value: 'orderId' } });
    fireEvent.change(screen.getByLabelText('Property 1 type'), { target: { value: 'number' } });
    fireEvent.change(screen.getByLabelText('Property 1 value'), { target: { value: '42' } });
    await userEvent.click(screen.getByTestId('feeder-send'));
    await waitFor(() => expect(screen.getByTestId('feeder-notice').textContent).toBe('Sent 1 message.'));
    const send = calls.find((c) => c.method === 'POST')!;
    expect(send.url).toBe('/api/flows/demo/nodes/feeder1/send');
    expect(send.body).toEqual({ body: '{"name": "World"}', bodyEncoding: 'utf8', contentType: 'application/json', properties: { orderId: 42 }, count: 1, intervalMs: 0 });
  });

  it('sends N times with an interval', async () => {
    const calls = stubFetch();
    render(<FeederPanel flowId="demo" nodeId="feeder1" config={{}} running saved onStart={() => undefined} />);
    fireEvent.change(screen.getByLabelText('N (number of messages)'), { target: { value: '3' } });
    fireEvent.change(screen.getByLabelText('Interval between messages (ms)'), { target: { value: '250' } });
    await userEvent.click(screen.getByTestId('feeder-send-n'));
    await waitFor(() => expect(screen.getByTestId('feeder-notice').textContent).toBe('Accepted 3 messages, one every 250 ms.'));
    expect(calls.find((c) => c.method === 'POST')!.body).toMatchObject({ count: 3, intervalMs: 250 });
  });

  it('lists the sent history and resends a message as it was', async () => {
    const calls = stubFetch();
    render(<FeederPanel flowId="demo" nodeId="feeder1" config={{}} running saved onStart={() => undefined} />);
    const history = await screen.findByRole('region', { name: 'Sent history' });
    await within(history).findByText('earlier');
    expect(history.textContent).toContain('(last 1 of 4)');
    await userEvent.click(within(history).getByRole('button', { name: 'Resend' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({ body: 'earlier', bodyEncoding: 'utf8', contentType: 'text/plain', properties: { a: 1 }, count: 1, intervalMs: 0 });
    await userEvent.click(within(history).getByRole('button', { name: 'Load' }));
    expect((screen.getByTestId('feeder-body') as HTMLTextAreaElement).value).toBe('earlier');
  });

  it('asks to start the flow before sending', () => {
    stubFetch();
    const onStart = vi.fn();
    render(<FeederPanel flowId="demo" nodeId="feeder1" config={{}} running={false} saved onStart={onStart} />);
    expect((screen.getByTestId('feeder-send') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Start flow' }));
    expect(onStart).toHaveBeenCalled();
  });
});

describe('Display panel', () => {
  it('has a helpful empty state', () => {
    render(<DisplayPanel log={undefined} running onClear={() => undefined} />);
    expect(screen.getByTestId('display-empty').textContent).toMatch(/send one from a Feeder/);
  });

  it('shows the latest message pretty-printed, and its properties', async () => {
    render(
      <DisplayPanel
        log={{
          items: [
            { body: 'first', contentType: 'text/plain' },
            { body: '{"greeting":"Hello, World!"}', contentType: 'application/json', properties: { 'lambda.statusCode': 200, 'lambda.requestId': 'r-1' } },
          ],
          total: 7,
        }}
        running
        onClear={() => undefined}
      />,
    );
    expect(screen.getByTestId('display-count').textContent).toBe('(last 2 of 7)');
    expect(screen.getByTestId('message-body').textContent).toBe('{\n  "greeting": "Hello, World!"\n}');
    await userEvent.click(screen.getByRole('tab', { name: /Properties/ }));
    expect(screen.getByText('lambda.requestId')).toBeTruthy();
    expect(screen.getByText('r-1')).toBeTruthy();
    await userEvent.click(screen.getByRole('tab', { name: /Body/ }));
    await userEvent.click(screen.getByRole('button', { name: /first/ }));
    expect(screen.getByTestId('message-body').textContent).toBe('first');
  });

  it('labels base64 bodies as such', () => {
    render(<DisplayPanel log={{ items: [{ body: 'AAEC', bodyEncoding: 'base64', contentType: 'application/octet-stream' }], total: 1 }} running onClear={() => undefined} />);
    expect(screen.getByText('base64')).toBeTruthy();
    expect(screen.getByText(/binary body, 3 bytes/)).toBeTruthy();
    expect(screen.getByTestId('message-body').textContent).toBe('AAEC');
  });

  it('marks error records and clears on request', async () => {
    const onClear = vi.fn();
    render(<DisplayPanel log={{ items: [{ body: '{"error":{"type":"requestProcessing"}}', contentType: 'application/json', properties: { 'error.type': 'requestProcessing' } }], total: 1 }} running onClear={onClear} />);
    expect(screen.getByText('error record')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Clear' }));
    expect(onClear).toHaveBeenCalled();
  });
});
