// The strip under the canvas for a flow with JetStream routes: the workers running it, each with
// its per-node counters, or why there are none (no broker, no worker started yet).
import type { NodeStatus } from '../api/types';
import type { WorkersState } from '../stores/useWorkers';

interface WorkersPanelProps {
  state: WorkersState;
  /** The flow's nodes in canvas order: id and name. */
  nodes: readonly { id: string; name: string }[];
}

function Counters({ status }: { status: NodeStatus | undefined }) {
  if (!status) return <span className="lf-muted">—</span>;
  return (
    <span className="lf-worker-counters" title={`state ${status.state}: received ${status.received}, emitted ${status.emitted}, errors ${status.errors}`}>
      {status.received}/{status.emitted}
      {status.errors > 0 && <b className="lf-worker-errors">/{status.errors}</b>}
    </span>
  );
}

export function WorkersPanel({ state, nodes }: WorkersPanelProps) {
  const running = state.workers.filter((w) => w.running).length;
  let body;
  let summary: string;
  if (state.nats === false) {
    summary = 'no broker';
    body = (
      <p className="lf-note" data-testid="workers-no-broker">
        No broker: this server runs without <code>--nats</code>, so the flow's JetStream routes cannot run here. Run it with{' '}
        <code>lambdaflow worker --nats URL</code>, or start the server with <code>--nats</code>.
      </p>
    );
  } else if (state.nats === null) {
    summary = state.error ? 'unavailable' : 'asking…';
    body = <p className="lf-note">{state.error ? `The server cannot say which workers run this flow: ${state.error}` : 'Asking the server which workers run this flow…'}</p>;
  } else if (state.workers.length === 0) {
    summary = 'none';
    body = (
      <p className="lf-note" data-testid="workers-none">
        No worker runs this flow. Start some: <code>lambdaflow worker --nats URL FLOW.json</code>.
      </p>
    );
  } else {
    summary = `${running} running`;
    body = (
      <div className="lf-workers-scroll">
        <table className="lf-table lf-workers-table" data-testid="workers-table">
          <thead>
            <tr>
              <th>Worker</th>
              {nodes.map((n) => (
                <th key={n.id} title={n.id}>
                  {n.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {state.workers.map((w) => (
              <tr key={w.worker} data-testid={`worker-${w.worker}`}>
                <td>
                  <span className={`lf-badge lf-badge--${w.running ? 'running' : 'stopped'}`}>{w.running ? 'running' : 'stopped'}</span> <span className="lf-mono">{w.worker}</span>
                </td>
                {nodes.map((n) => (
                  <td key={n.id}>
                    <Counters status={w.nodes[n.id]} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <p className="lf-note">Per node: received/emitted(/errors) as each worker last reported.</p>
      </div>
    );
  }
  return (
    <details className="lf-workers" open data-testid="workers-panel" data-state={summary}>
      <summary>
        Workers <span className="lf-muted">· {summary}</span>
        {state.nats && state.error && <span className="lf-note lf-note--error"> (last poll failed: {state.error})</span>}
      </summary>
      {body}
    </details>
  );
}
