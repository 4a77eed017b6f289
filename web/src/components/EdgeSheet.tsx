// The side panel for one route (a wire selected on the canvas): its ends, and its transport —
// an in-process queue or a durable JetStream subject shared by workers — with its partition key.
import type { EdgeTransport } from '../api/types';
import { isJetStream, type DesignerEdge } from '../lib/model';
import { PARTITION_KEY_HELP, partitionKeyProblem } from '../lib/transport';

interface EdgeSheetProps {
  edge: DesignerEdge;
  /** Node names by id, to say which cards the route joins. */
  names: ReadonlyMap<string, string>;
  /** The server's objections to this route from the last save. */
  issues: readonly string[];
  onChange: (change: { transport?: EdgeTransport; partitionKey?: string }) => void;
  onClose: () => void;
}

const TRANSPORTS: { value: EdgeTransport; label: string; help: string }[] = [
  { value: 'local', label: 'Local', help: 'An in-process queue: needs nothing, lives as long as the process.' },
  { value: 'jetstream', label: 'JetStream', help: 'A durable NATS JetStream subject shared by every worker running the flow (run with --nats).' },
];

export function EdgeSheet({ edge, names, issues, onChange, onClose }: EdgeSheetProps) {
  const js = isJetStream(edge);
  const key = edge.data?.partitionKey ?? '';
  const keyProblem = partitionKeyProblem(key);
  const end = (node: string, port: string | null | undefined) => (
    <>
      {names.get(node) ?? node} <span className="lf-mono lf-muted">{port}</span>
    </>
  );
  return (
    <aside className="lf-inspector" aria-label={`Route ${edge.id}`} data-testid="edge-sheet">
      <header className="lf-inspector-head">
        <span className="lf-node-icon lf-node-icon--route" aria-hidden="true">
          ⇢
        </span>
        <div className="lf-inspector-titles">
          <div className="lf-edge-title">
            {end(edge.source, edge.sourceHandle)} → {end(edge.target, edge.targetHandle)}
          </div>
          <div className="lf-muted lf-small">
            <span className="lf-mono">{edge.id}</span> · route
          </div>
        </div>
        <button type="button" className="lf-icon-btn" aria-label="Close route sheet" onClick={onClose} title="Close (Esc)">
          ✕
        </button>
      </header>
      <div className="lf-inspector-body">
        {issues.length > 0 && (
          <div className="lf-callout lf-callout--error" role="alert">
            {issues.map((m, i) => (
              <div key={i}>{m}</div>
            ))}
          </div>
        )}
        <fieldset className="lf-fieldset lf-transport">
          <legend>Transport</legend>
          {TRANSPORTS.map((t) => (
            <label key={t.value} className="lf-choice">
              <input
                type="radio"
                name={`transport-${edge.id}`}
                value={t.value}
                checked={(edge.data?.transport ?? 'local') === t.value}
                onChange={() => onChange({ transport: t.value })}
                data-testid={`transport-${t.value}`}
              />
              <span>
                <b>{t.label}</b>
                <span className="lf-note">{t.help}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {js && (
          <label className="lf-field">
            Partition key
            <input
              className="lf-input lf-mono"
              value={key}
              placeholder="none: any worker, any order"
              spellCheck={false}
              aria-invalid={keyProblem ? true : undefined}
              aria-describedby={`partition-help-${edge.id}`}
              onChange={(e) => onChange({ partitionKey: e.target.value })}
              data-testid="partition-key"
            />
            <span id={`partition-help-${edge.id}`} className="lf-note">
              {PARTITION_KEY_HELP} (a message property, e.g. customerId). Empty: no key.
            </span>
            {keyProblem && (
              <span className="lf-note lf-note--error" data-testid="partition-key-problem">
                {keyProblem}
              </span>
            )}
          </label>
        )}
        {js && <p className="lf-note">A flow with a JetStream route starts only on a server or worker connected to NATS (--nats or NATS_URL).</p>}
      </div>
    </aside>
  );
}
