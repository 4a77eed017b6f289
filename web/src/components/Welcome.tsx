// What the main area shows with no flow open: create one, or open a stored one.
import type { FlowSummary } from '../api/types';
import { NewFlowForm } from './FlowsPanel';

interface WelcomeProps {
  flows: FlowSummary[] | null;
  onCreate: (id: string, name: string) => void;
  onOpen: (id: string) => void;
}

export function Welcome({ flows, onCreate, onOpen }: WelcomeProps) {
  return (
    <div className="lf-welcome">
      <div className="lf-welcome-card">
        <h1>Design a flow</h1>
        <p>Build event flows that call AWS Lambda: a Feeder sends messages, a LambdaConnector invokes your function, a Display shows what comes out — and what fails.</p>
        <NewFlowForm existing={(flows ?? []).map((f) => f.id)} onCreate={onCreate} />
        {flows && flows.length > 0 && (
          <>
            <h2>Or open one</h2>
            <ul className="lf-welcome-list">
              {flows.map((f) => (
                <li key={f.id}>
                  <button type="button" className="lf-link" onClick={() => onOpen(f.id)}>
                    {f.name || f.id}
                  </button>{' '}
                  <span className="lf-muted lf-mono">{f.id}</span> {f.state === 'running' && <span className="lf-pill lf-pill--ok">running</span>}
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </div>
  );
}
