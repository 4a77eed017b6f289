// The property sheet renders every component schema this repository ships, with its uiSchema.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ComponentDescriptor } from '../api/types';
import { NO_CAPABILITIES } from '../lib/capabilities';
import { lambdaDescriptor } from '../test/fixtures';
import { repoComponents } from '../test/repoSchemas';
import { PropertySheet } from './PropertySheet';

const components = repoComponents();

describe('the repository’s component schemas', () => {
  it('include at least the Feeder and the Display', () => {
    expect(components.map((c) => c.type)).toEqual(expect.arrayContaining(['feeder', 'display']));
  });

  for (const c of components) {
    it(`${c.type}: renders a field for every top-level property the uiSchema orders`, () => {
      const descriptor: ComponentDescriptor = { type: c.type, title: c.type, description: '', inputs: [], outputs: [], schema: c.schema, uiSchema: c.uiSchema, capabilities: NO_CAPABILITIES, actions: [] };
      const { container } = render(
        <PropertySheet descriptor={descriptor} nodeId="n1" config={{}} secretsSet={[]} secretsClear={[]} issues={[]} onChange={() => undefined} onClearSecret={() => undefined} />,
      );
      const props = Object.keys((c.schema.properties as Record<string, unknown>) ?? {});
      for (const p of props) {
        expect(container.querySelector(`[id^="cfg__${p}"]`), `field ${p}`).not.toBeNull();
      }
      expect(screen.queryByText(/Unsupported field schema/)).toBeNull();
    });
  }
});

describe('the LambdaConnector’s own schema', () => {
  const lambda = components.find((c) => c.type === 'lambda');

  it('is in the repository', () => {
    expect(lambda).toBeDefined();
  });

  function renderLambda(config: Record<string, unknown>, secretsSet: string[] = []) {
    const descriptor: ComponentDescriptor = { type: 'lambda', title: 'LambdaConnector', description: '', inputs: ['in'], outputs: ['out', 'error'], schema: lambda!.schema, uiSchema: lambda!.uiSchema, capabilities: lambdaDescriptor.capabilities, actions: lambdaDescriptor.actions };
    return render(
      <PropertySheet descriptor={descriptor} nodeId="lambda1" config={config as never} secretsSet={secretsSet} secretsClear={[]} issues={[]} onChange={() => undefined} onClearSecret={() => undefined} />,
    );
  }

  it('is Lambda-first: Test, then function, qualifier, invocation, region and endpoint; the rest collapsed with summaries', () => {
    const { container } = renderLambda({});
    const order = ['[data-testid="test-body"]', '#cfg__functionName', '#cfg__qualifier', '[id^="cfg__invocationType"]', '#cfg__connection__region', '#cfg__connection__endpointUrl', '[data-testid="group-payload"]'].map((sel) => {
      const el = container.querySelector(sel);
      expect(el, sel).not.toBeNull();
      return el!;
    });
    for (let i = 1; i < order.length; i++) {
      expect(order[i - 1]!.compareDocumentPosition(order[i]!) & Node.DOCUMENT_POSITION_FOLLOWING, `${i}`).toBeTruthy();
    }
    const groups = [...container.querySelectorAll('details.lf-group')] as HTMLDetailsElement[];
    expect(groups.length).toBeGreaterThanOrEqual(9); // payload, output, concurrency, credentials, timeouts, 4 error types
    expect(groups.every((g) => !g.open)).toBe(true);
    const summary = (id: string) => container.querySelector(`[data-testid="group-${id}"] [data-testid="group-summary"]`)?.textContent ?? '';
    expect(summary('connection')).toBe('Connection: log, error port, retry 5×');
    expect(summary('request-processing')).toBe('Request processing: log, error port, retry 3×');
    expect(summary('invalid-request')).toBe('Invalid request: log, error port, no retry');
    expect(summary('concurrency')).toMatch(/4/);
    expect(summary('credentials')).not.toMatch(/secret/i);
    // the placeholder reads as a hint, never as a function name
    const fn = container.querySelector('#cfg__functionName') as HTMLInputElement;
    expect(fn.placeholder).toMatch(/\s/);
  });

  it('hides the invocation type for async invoke', () => {
    const { container, unmount } = renderLambda({ functionName: 'hello' });
    expect(container.querySelector('[id^="cfg__invocationType"]')).not.toBeNull();
    unmount();
    const again = renderLambda({ functionName: 'hello', asyncInvoke: true });
    expect(again.container.querySelector('[id^="cfg__invocationType"]')).toBeNull();
  });

  it('shows batching only for the v2 payload format', () => {
    const { container, unmount } = renderLambda({ functionName: 'hello', payloadFormat: 'message' });
    expect(container.querySelector('[id^="cfg__batch"]')).toBeNull();
    unmount();
    const again = renderLambda({ functionName: 'hello', payloadFormat: 'v2' });
    expect(again.container.querySelector('[id^="cfg__batch__maxRecords"]')).not.toBeNull();
  });

  it('uses the Lambda pickers and password fields', () => {
    const { container } = renderLambda({ functionName: 'hello' }, ['/connection/secretKey']);
    expect(container.querySelector('#cfg__functionName')!.getAttribute('role')).toBe('combobox');
    expect(container.querySelector('#cfg__qualifier')!.getAttribute('role')).toBe('combobox');
    const secret = container.querySelector('#cfg__connection__secretKey') as HTMLInputElement;
    expect(secret.type).toBe('password');
    expect(secret.value).toBe('');
    expect(container.textContent).toContain('a secret is set');
    expect((container.querySelector('#cfg__connection__sessionToken') as HTMLInputElement).type).toBe('password');
  });
});

describe('ticking Async Invoke on the real LambdaConnector sheet', () => {
  it('removes the hidden invocation type from the config, so the save is not refused', async () => {
    const { default: userEvent } = await import('@testing-library/user-event');
    const { useState } = await import('react');
    const { waitFor } = await import('@testing-library/react');
    const lambda = components.find((c) => c.type === 'lambda')!;
    const descriptor: ComponentDescriptor = { type: 'lambda', title: 'LambdaConnector', description: '', inputs: ['in'], outputs: ['out', 'error'], schema: lambda.schema, uiSchema: lambda.uiSchema, capabilities: lambdaDescriptor.capabilities, actions: lambdaDescriptor.actions };
    const seen: Record<string, unknown>[] = [];
    function Sheet() {
      const [config, setConfig] = useState<Record<string, unknown>>({ functionName: 'hello', invocationType: 'DryRun' });
      return (
        <PropertySheet descriptor={descriptor} nodeId="lambda1" config={config as never} secretsSet={[]} secretsClear={[]} issues={[]}
          onChange={(c) => { seen.push(c); setConfig(c); }} onClearSecret={() => undefined} />
      );
    }
    render(<Sheet />);
    await userEvent.click(screen.getByLabelText(/Async Invoke/i));
    await waitFor(() => expect(seen.length).toBeGreaterThan(0));
    const last = seen[seen.length - 1]!;
    expect(last.asyncInvoke).toBe(true);
    expect(last).not.toHaveProperty('invocationType');
  });
});
