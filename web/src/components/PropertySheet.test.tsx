import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ComponentDescriptor, JsonObject } from '../api/types';
import type { NodeIssue } from '../lib/issues';
import { feederDescriptor, lambdaDescriptor } from '../test/fixtures';
import { ErrorBoundary } from './ErrorBoundary';
import { PropertySheet, withSecretWidgets } from './PropertySheet';

function Harness(props: {
  descriptor?: ComponentDescriptor;
  initial?: JsonObject;
  issues?: NodeIssue[];
  secretsSet?: string[];
  onConfig?: (c: JsonObject) => void;
  onClearSecret?: (p: string, clear: boolean) => void;
}) {
  const [config, setConfig] = useState<JsonObject>(props.initial ?? {});
  return (
    <PropertySheet
      descriptor={props.descriptor ?? lambdaDescriptor}
      nodeId="lambda1"
      flowId="demo"
      config={config}
      secretsSet={props.secretsSet ?? []}
      secretsClear={[]}
      issues={props.issues ?? []}
      onChange={(c) => {
        setConfig(c);
        props.onConfig?.(c);
      }}
      onClearSecret={props.onClearSecret ?? (() => undefined)}
    />
  );
}

function fieldGroup(label: string): HTMLElement {
  const input = screen.getByLabelText(label, { exact: false });
  return (input.closest('.form-group') ?? input.parentElement!) as HTMLElement;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('property sheet rendered from the component schema', () => {
  it('shows the fields the schema declares, with their titles', () => {
    render(<Harness />);
    expect(screen.getByLabelText(/Function name/)).toBeTruthy();
    expect(screen.getByLabelText(/Max concurrency/)).toBeTruthy();
    expect(screen.getByLabelText(/Region/)).toBeTruthy();
  });

  it('hides the invocation type for async invoke (if/then on a const discriminator)', async () => {
    render(<Harness initial={{ asyncInvoke: false }} />);
    expect(screen.queryByLabelText(/Invocation type/)).not.toBeNull();
    await userEvent.click(screen.getByLabelText(/Async invoke/));
    await waitFor(() => expect(screen.queryByLabelText(/Invocation type/)).toBeNull());
    await userEvent.click(screen.getByLabelText(/Async invoke/));
    await waitFor(() => expect(screen.queryByLabelText(/Invocation type/)).not.toBeNull());
  });

  it('shows batch settings only for the v2 payload format (dependencies + oneOf)', async () => {
    render(<Harness initial={{ payloadFormat: 'message' }} />);
    expect(screen.queryByLabelText(/Batch max records/)).toBeNull();
    const select = screen.getByLabelText(/Payload format/) as HTMLSelectElement;
    fireEvent.change(select, { target: { value: String([...select.options].findIndex((o) => o.textContent === 'v2')) } });
    await waitFor(() => expect(screen.queryByLabelText(/Batch max records/)).not.toBeNull());
  });

  it('opening a sheet does not change the config (defaults are not written back)', async () => {
    const onConfig = vi.fn();
    render(<Harness descriptor={feederDescriptor} onConfig={onConfig} />);
    render(<Harness onConfig={onConfig} />);
    await new Promise((r) => setTimeout(r, 50));
    expect(onConfig).not.toHaveBeenCalled();
  });

  it('puts a server validation error on its field', () => {
    render(<Harness initial={{ maxConcurrency: 0 }} issues={[{ pointer: '/maxConcurrency', inConfig: true, message: '0 is less than the minimum of 1' }]} />);
    expect(within(fieldGroup('Max concurrency')).getByText('0 is less than the minimum of 1')).toBeTruthy();
    // the list names the field by its title, not its JSON pointer
    expect(screen.getByTestId('sheet-issues').textContent).toMatch(/Max concurrency/i);
    expect(screen.getByTestId('sheet-issues').textContent).not.toContain('maxConcurrency');
    // and not on another field
    expect(within(fieldGroup('Function name')).queryByText('0 is less than the minimum of 1')).toBeNull();
  });

  it('puts an error on a nested field', () => {
    render(<Harness issues={[{ pointer: '/connection/region', inConfig: true, message: 'unknown region' }]} />);
    expect(within(fieldGroup('Region')).getByText('unknown region')).toBeTruthy();
  });

  it('validates as the user types (JSON Schema 2020-12)', async () => {
    render(<Harness initial={{ functionName: 'hello' }} />);
    const input = screen.getByLabelText(/Max concurrency/);
    fireEvent.change(input, { target: { value: '0' } });
    await waitFor(() => expect(within(fieldGroup('Max concurrency')).getByText(/must be >= 1/)).toBeTruthy());
  });
});

describe('secret (writeOnly) fields', () => {
  it('says a secret is set and never shows a value', () => {
    render(<Harness secretsSet={['/connection/secretKey']} />);
    const input = screen.getByLabelText(/Secret key/) as HTMLInputElement;
    expect(input.type).toBe('password');
    expect(input.value).toBe('');
    expect(within(fieldGroup('Secret key')).getByText('a secret is set')).toBeTruthy();
    expect(within(fieldGroup('Session token')).getByText('no secret stored')).toBeTruthy();
  });

  it('an empty input keeps the stored secret; typing replaces it', async () => {
    const onConfig = vi.fn();
    render(<Harness secretsSet={['/connection/secretKey']} onConfig={onConfig} />);
    const input = screen.getByLabelText(/Secret key/);
    fireEvent.change(input, { target: { value: 'n3w' } });
    await waitFor(() => expect(onConfig).toHaveBeenCalled());
    expect((onConfig.mock.lastCall![0] as { connection: JsonObject }).connection.secretKey).toBe('n3w');
    fireEvent.change(input, { target: { value: '' } });
    await waitFor(() => expect((onConfig.mock.lastCall![0] as { connection?: JsonObject }).connection?.secretKey).toBeUndefined());
  });

  it('offers to remove a stored secret', async () => {
    const onClear = vi.fn();
    render(<Harness secretsSet={['/connection/secretKey']} onClearSecret={onClear} />);
    await userEvent.click(within(fieldGroup('Secret key')).getByRole('button', { name: 'Remove' }));
    expect(onClear).toHaveBeenCalledWith('/connection/secretKey', true);
  });

  it('renders writeOnly fields as password even without a uiSchema hint', () => {
    const ui = withSecretWidgets(lambdaDescriptor.schema, {});
    expect(ui).toMatchObject({ connection: { secretKey: { 'ui:widget': 'password' }, sessionToken: { 'ui:widget': 'password' } } });
  });
});

describe('pickers calling the component actions (the LambdaConnector’s function and qualifier)', () => {
  it('lists functions for the current config through the action that fills the field, and lets the user pick one', async () => {
    const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
      expect(url).toBe('/api/components/lambda/actions/functions');
      expect(JSON.parse(String(init?.body))).toEqual({ config: { connection: { region: 'us-east-1' } }, flow: 'demo', node: 'lambda1' });
      return new Response(JSON.stringify({ functions: [{ name: 'hello', runtime: 'provided.al2023' }, { name: 'echo' }, { name: 'fail' }] }), { status: 200 });
    });
    vi.stubGlobal('fetch', fetchMock);
    const onConfig = vi.fn();
    render(<Harness initial={{ connection: { region: 'us-east-1' } }} onConfig={onConfig} />);
    const input = screen.getByRole('combobox', { name: /Function name/ });
    await act(async () => input.focus());
    const option = await screen.findByRole('option', { name: /hello/ });
    expect(within(screen.getByRole('listbox')).getAllByRole('option').map((o) => o.textContent)).toEqual(['hello provided.al2023', 'echo', 'fail']);
    fireEvent.mouseDown(option);
    await waitFor(() => expect(onConfig).toHaveBeenLastCalledWith(expect.objectContaining({ functionName: 'hello' })));
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('names neither flow nor node for a node the server does not hold yet', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify({ functions: [] }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    render(
      <PropertySheet
        descriptor={lambdaDescriptor}
        nodeId="lambda9"
        config={{}}
        secretsSet={[]}
        secretsClear={[]}
        issues={[]}
        onChange={() => undefined}
        onClearSecret={() => undefined}
      />,
    );
    await act(async () => screen.getByRole('combobox', { name: /Function name/ }).focus());
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    expect(JSON.parse(String(fetchMock.mock.calls[0]![1]!.body))).toEqual({ config: {} });
  });

  it('still accepts free text when listing fails', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: 'AccessDeniedException: no', details: [] }), { status: 502 })));
    const onConfig = vi.fn();
    render(<Harness onConfig={onConfig} />);
    const input = screen.getByRole('combobox', { name: /Function name/ });
    await act(async () => input.focus());
    expect(await screen.findByText(/Could not list functions: AccessDeniedException: no/)).toBeTruthy();
    fireEvent.change(input, { target: { value: 'my-func:PROD' } });
    await waitFor(() => expect(onConfig).toHaveBeenLastCalledWith(expect.objectContaining({ functionName: 'my-func:PROD' })));
  });

  it('lists aliases and versions of the chosen function', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init?: RequestInit) => {
        expect(url).toBe('/api/components/lambda/actions/qualifiers');
        expect(JSON.parse(String(init?.body)).config.functionName).toBe('hello');
        return new Response(JSON.stringify({ aliases: [{ name: 'PROD', functionVersion: '3' }], versions: ['$LATEST', '1'] }), { status: 200 });
      }),
    );
    render(<Harness initial={{ functionName: 'hello' }} />);
    const input = screen.getByRole('combobox', { name: /Qualifier/ });
    await act(async () => input.focus());
    await screen.findByRole('option', { name: /PROD/ });
    expect(within(screen.getByRole('listbox')).getAllByRole('option').map((o) => o.textContent)).toEqual(['PROD alias → version 3', '$LATEST version', '1 version']);
  });

  it('names the field to fill in first when the server refuses the listing for it', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: 'invalid config', details: [{ node: null, pointer: '/config/functionName', message: 'is required' }] }), { status: 422 })),
    );
    const onConfig = vi.fn();
    render(<Harness onConfig={onConfig} />);
    const input = screen.getByRole('combobox', { name: /Qualifier/ });
    await act(async () => input.focus());
    expect(await screen.findByText('Fill in Function name first to list qualifiers.')).toBeTruthy();
    // free text still goes in
    fireEvent.change(input, { target: { value: 'PROD' } });
    await waitFor(() => expect(onConfig).toHaveBeenLastCalledWith(expect.objectContaining({ qualifier: 'PROD' })));
  });

  it('gives a field that an action fills a picker even without a uiSchema widget', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => new Response(JSON.stringify({ functions: [{ name: 'hello' }] }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const bare = { ...lambdaDescriptor, uiSchema: {} };
    render(<PropertySheet descriptor={bare} nodeId="lambda9" config={{}} secretsSet={[]} secretsClear={[]} issues={[]} onChange={() => undefined} onClearSecret={() => undefined} />);
    const input = screen.getByRole('combobox', { name: /Function name/ });
    await act(async () => input.focus());
    await screen.findByRole('option', { name: /hello/ });
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/components/lambda/actions/functions');
  });

  it('renders a field named by a picker widget but filled by no action as plain text', () => {
    const noActions = { ...lambdaDescriptor, actions: [] };
    render(<PropertySheet descriptor={noActions} nodeId="lambda9" config={{}} secretsSet={[]} secretsClear={[]} issues={[]} onChange={() => undefined} onClearSecret={() => undefined} />);
    expect(screen.queryByRole('combobox', { name: /Function name/ })).toBeNull();
    expect(screen.getByRole('textbox', { name: /Function name/ })).toBeTruthy();
  });
});

describe('Test button', () => {
  it('shows what reached out and error', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        expect(url).toBe('/api/components/lambda/test');
        return new Response(
          JSON.stringify({
            out: [{ body: '"Hello, World!"', contentType: 'application/json', properties: { 'lambda.statusCode': 200 } }],
            error: [],
            durationMs: 12,
          }),
          { status: 200 },
        );
      }),
    );
    render(<Harness initial={{ functionName: 'hello' }} />);
    // the LambdaConnector's Test panel is open at the top of its sheet
    await userEvent.click(screen.getByTestId('test-run'));
    const results = await screen.findByTestId('test-results');
    expect(within(results).getByText('"Hello, World!"')).toBeTruthy();
    expect(within(results).getByText('Nothing reached error.')).toBeTruthy();
  });

  it('maps a 422 from the test route onto the fields', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: 'config is invalid', details: [{ node: null, pointer: '/config/maxConcurrency', message: 'too small' }] }), { status: 422 })),
    );
    render(<Harness initial={{ functionName: 'hello', maxConcurrency: 0 }} />);
    await userEvent.click(screen.getByTestId('test-run'));
    await waitFor(() => expect(within(fieldGroup('Max concurrency')).getByText('too small')).toBeTruthy());
  });
});

describe('feeder schema', () => {
  it('renders the messages list', () => {
    render(<Harness descriptor={feederDescriptor} />);
    expect(screen.getByText('Messages')).toBeTruthy();
    expect(screen.getByLabelText(/History size/)).toBeTruthy();
  });
});

describe('a schema the sheet cannot render', () => {
  it('shows what is wrong instead of breaking the designer', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken: ComponentDescriptor = { ...lambdaDescriptor, schema: { type: 'object', properties: { x: { $ref: 'elsewhere.json' } } } };
    render(
      <ErrorBoundary what="property sheet">
        <Harness descriptor={broken} />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('alert').textContent).toMatch(/The property sheet cannot be shown/);
    quiet.mockRestore();
  });
});
