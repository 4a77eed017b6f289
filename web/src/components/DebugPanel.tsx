// The debug sidebar: one stream of everything the Displays receive and every error record,
// filterable by node, each value as a collapsible JSON tree with copy value / copy path, the
// Lambda request and response side by side with the invocation's facts. Clicking an entry's node
// selects it on the canvas.
import { useMemo, useState } from 'react';
import type { Json } from '../api/types';
import { useDesigner } from '../context';
import { capabilitiesOf } from '../lib/capabilities';
import { entryValue, lambdaFacts, pathText, type DebugEntry } from '../lib/debug';

function copy(text: string) {
  void navigator.clipboard?.writeText(text).catch(() => undefined);
}

function JsonTree({ value, path = [], name }: { value: Json | undefined; path?: (string | number)[]; name?: string }) {
  const label = name !== undefined ? <span className="lf-json-key">{name}: </span> : null;
  const tools = (
    <span className="lf-json-tools">
      <button type="button" className="lf-link" onClick={() => copy(typeof value === 'string' ? value : JSON.stringify(value, null, 2))} title="Copy value">
        copy
      </button>
      {path.length > 0 && (
        <button type="button" className="lf-link" onClick={() => copy(pathText(path))} title={`Copy path ${pathText(path)}`}>
          path
        </button>
      )}
    </span>
  );
  if (value !== null && typeof value === 'object') {
    const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    return (
      <details className="lf-json" open={path.length < 1}>
        <summary>
          {label}
          <span className="lf-muted">{Array.isArray(value) ? `array[${value.length}]` : `{${entries.length}}`}</span> {tools}
        </summary>
        {entries.map(([k, v]) => (
          <JsonTree key={String(k)} value={v} path={[...path, k]} name={String(k)} />
        ))}
      </details>
    );
  }
  return (
    <div className="lf-json-leaf">
      {label}
      <span className={`lf-json-${value === null ? 'null' : typeof value}`}>{typeof value === 'string' ? JSON.stringify(value) : String(value)}</span> {tools}
    </div>
  );
}

function Entry({ entry, name, onSelect }: { entry: DebugEntry; name: string; onSelect: () => void }) {
  const { components } = useDesigner();
  const facts = lambdaFacts(entry, (type) => capabilitiesOf(components.get(type)).invokes);
  return (
    <li className={`lf-debug-entry${entry.kind === 'error' ? ' is-error' : ''}`} data-testid="debug-entry" data-node={entry.node}>
      <div className="lf-debug-head">
        <button type="button" className="lf-link" onClick={onSelect} data-testid="debug-node">
          {name}
        </button>
        <span className="lf-pill">{entry.kind === 'error' ? 'error record' : 'message'}</span>
        {entry.message?.timestamp && <time className="lf-muted">{entry.message.timestamp.slice(11, 23)}</time>}
      </div>
      {facts ? (
        <>
          {facts.facts.length > 0 && (
            <dl className="lf-debug-facts" data-testid="debug-facts">
              {facts.facts.map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="lf-mono">{v}</dd>
                </div>
              ))}
            </dl>
          )}
          <div className="lf-debug-pair">
            <div>
              <h5>request</h5>
              {facts.request === undefined ? <p className="lf-note">—</p> : <JsonTree value={facts.request} />}
            </div>
            <div>
              <h5>response</h5>
              {facts.response === undefined ? <p className="lf-note">—</p> : <JsonTree value={facts.response} />}
            </div>
          </div>
          {entry.record && (
            <details className="lf-json">
              <summary className="lf-muted">whole record</summary>
              <JsonTree value={entry.record} />
            </details>
          )}
        </>
      ) : (
        <JsonTree value={entryValue(entry)} />
      )}
    </li>
  );
}

interface DebugPanelProps {
  entries: DebugEntry[];
  names: ReadonlyMap<string, string>;
  onSelect: (node: string) => void;
  onClear: () => void;
  onClose: () => void;
}

export function DebugPanel({ entries, names, onSelect, onClear, onClose }: DebugPanelProps) {
  const [filter, setFilter] = useState('');
  const nodes = useMemo(() => [...new Set(entries.map((e) => e.node))].sort(), [entries]);
  const shown = useMemo(() => entries.filter((e) => !filter || e.node === filter).slice(-100).reverse(), [entries, filter]);
  return (
    <section className="lf-debug" aria-label="Debug" data-testid="debug-panel">
      <header className="lf-debug-bar">
        <strong>Debug</strong>
        <label className="lf-small">
          node{' '}
          <select className="lf-input lf-input--small" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="debug-filter">
            <option value="">all nodes</option>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {names.get(n) ?? n} ({n})
              </option>
            ))}
          </select>
        </label>
        <span className="lf-muted lf-small">{entries.length} received</span>
        <span className="lf-spacer" />
        <button type="button" className="lf-btn lf-btn--small" onClick={onClear}>
          Clear
        </button>
        <button type="button" className="lf-icon-btn" aria-label="Close debug" onClick={onClose}>
          ✕
        </button>
      </header>
      {shown.length === 0 ? (
        <p className="lf-note lf-debug-empty">Nothing yet: what reaches a Display or an error port shows here.</p>
      ) : (
        <ul className="lf-debug-list">
          {shown.map((e) => (
            <Entry key={e.seq} entry={e} name={names.get(e.node) ?? e.node} onSelect={() => onSelect(e.node)} />
          ))}
        </ul>
      )}
    </section>
  );
}
