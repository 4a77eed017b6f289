// Issue 12 in the designer: a route's sheet writes its transport and partition key into the flow
// document as flow.schema.json says; the workers strip and the cards' "×N workers" badges.
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useReducer } from 'react';
import { describe, expect, it } from 'vitest';
import type { FlowDocument, WorkerReport } from '../api/types';
import { editorReducer, emptyEditor, toFlowDocument } from '../lib/editor';
import { initialRuntime } from '../lib/runtime';
import { demoFlow, lambdaDescriptor } from '../test/fixtures';
import { EdgeSheet } from './EdgeSheet';
import { WorkersPanel } from './WorkersPanel';
import { renderCard } from '../test/renderCard';

/** The route sheet of `route2` (LambdaConnector → Display) over the real editor reducer. */
function RouteSheetHarness({ onDoc }: { onDoc: (d: FlowDocument) => void }) {
  const [editor, dispatch] = useReducer(editorReducer, undefined, () => editorReducer(emptyEditor(), { type: 'load', flow: demoFlow, saved: true }));
  onDoc(toFlowDocument(editor));
  const edge = editor.edges.find((e) => e.id === 'route2')!;
  return (
    <EdgeSheet
      edge={edge}
      names={new Map(editor.nodes.map((n) => [n.id, n.data.name]))}
      issues={editor.issues.byEdge[edge.id] ?? []}
      onChange={(change) => dispatch({ type: 'setEdge', edgeId: edge.id, ...change })}
      onClose={() => undefined}
    />
  );
}

describe('the route sheet', () => {
  it('switches a route to JetStream with a partition key, and back to local without either field', async () => {
    const user = userEvent.setup();
    let doc: FlowDocument = demoFlow;
    render(<RouteSheetHarness onDoc={(d) => (doc = d)} />);
    const sheet = screen.getByTestId('edge-sheet');
    expect(sheet.textContent).toContain('LambdaConnector');
    expect(sheet.textContent).toContain('Display');
    expect((screen.getByTestId('transport-local') as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByTestId('partition-key')).toBeNull();

    await user.click(screen.getByTestId('transport-jetstream'));
    expect(doc.edges[1]).toEqual({ id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' }, transport: 'jetstream' });
    const key = screen.getByTestId('partition-key');
    expect(sheet.textContent).toContain('Messages with the same value of this property keep their order across workers');

    await user.type(key, 'customer id');
    expect(screen.getByTestId('partition-key-problem').textContent).toMatch(/no spaces/);
    await user.clear(key);
    await user.type(key, 'customerId');
    expect(screen.queryByTestId('partition-key-problem')).toBeNull();
    expect(doc.edges[1]).toMatchObject({ transport: 'jetstream', partitionKey: 'customerId' });
    expect(doc.edges[0]).toEqual(demoFlow.edges[0]);

    await user.click(screen.getByTestId('transport-local'));
    expect(doc.edges[1]).toEqual(demoFlow.edges[1]);
    expect(screen.queryByTestId('partition-key')).toBeNull();
  });
});

const workers: WorkerReport[] = [
  { worker: 'w1', running: true, nodes: { feeder1: { state: 'running' as const, received: 0, emitted: 10, errors: 0 }, lambda1: { state: 'running' as const, received: 6, emitted: 5, errors: 1 } } },
  { worker: 'w2', running: true, nodes: { lambda1: { state: 'running' as const, received: 4, emitted: 4, errors: 0 } } },
];
const nodes = [
  { id: 'feeder1', name: 'Feeder' },
  { id: 'lambda1', name: 'LambdaConnector' },
];

describe('the workers strip', () => {
  it('lists each worker with its per-node counters', () => {
    render(<WorkersPanel state={{ nats: true, workers, error: null }} nodes={nodes} />);
    const panel = screen.getByTestId('workers-panel');
    expect(panel.textContent).toContain('2 running');
    const w1 = within(screen.getByTestId('worker-w1'));
    expect(w1.getByText('w1')).toBeTruthy();
    expect(screen.getByTestId('worker-w1').textContent).toContain('0/10');
    expect(screen.getByTestId('worker-w1').textContent).toContain('6/5/1');
    // a node a worker does not report is a dash, not a zero
    expect(screen.getByTestId('worker-w2').textContent).toContain('—');
    expect(screen.getByTestId('worker-w2').textContent).toContain('4/4');
  });

  it('says when the server has no broker, and when no worker runs the flow', () => {
    const { rerender } = render(<WorkersPanel state={{ nats: false, workers: [], error: null }} nodes={nodes} />);
    expect(screen.getByTestId('workers-panel').getAttribute('data-state')).toBe('no broker');
    expect(screen.getByTestId('workers-no-broker').textContent).toContain('--nats');
    rerender(<WorkersPanel state={{ nats: true, workers: [], error: null }} nodes={nodes} />);
    expect(screen.getByTestId('workers-none')).toBeTruthy();
    expect(screen.queryByTestId('workers-table')).toBeNull();
  });
});

describe('the card', () => {
  function card(workerCounts: Map<string, number>, runtime = initialRuntime()) {
    return renderCard(
      { id: 'lambda1', type: 'lambda', name: 'LambdaConnector', position: { x: 0, y: 0 }, config: {} },
      { components: new Map([[lambdaDescriptor.type, lambdaDescriptor]]), runtime, workers: workerCounts },
    );
  }

  it('says how many workers run its node, and nothing without workers', () => {
    const { unmount } = card(new Map([['lambda1', 2]]));
    expect(screen.getByTestId('workers-lambda1').textContent).toBe('×2 workers');
    unmount();
    card(new Map());
    expect(screen.queryByTestId('workers-lambda1')).toBeNull();
  });

  it('shows the adaptive concurrency limit from the node status, and nothing for a fixed one', () => {
    const adaptive = { ...initialRuntime(), nodes: { lambda1: { state: 'running' as const, received: 9, emitted: 8, errors: 1, concurrencyLimit: 6 } } };
    const { unmount } = card(new Map(), adaptive);
    expect(screen.getByTestId('limit-lambda1').textContent).toBe('limit 6 in flight');
    unmount();
    const fixed = { ...initialRuntime(), nodes: { lambda1: { state: 'running' as const, received: 9, emitted: 9, errors: 0 } } };
    card(new Map(), fixed);
    expect(screen.queryByTestId('limit-lambda1')).toBeNull();
  });
});
