// The Feeder's run window (Fiorano's FeederFrame): type a message, check it, send it once or N
// times, and resend from the history.
import { useCallback, useEffect, useState } from 'react';
import { api, describeError } from '../api/client';
import type { JsonObject, Message } from '../api/types';
import { checkJson, formatTime, isJsonContentType, preview, propertiesFromRows, rowsFromProperties, type PropertyRow, type PropertyType } from '../lib/message';

const CONTENT_TYPES = ['application/json', 'text/plain', 'application/xml', 'application/octet-stream'];

interface FeederPanelProps {
  flowId: string;
  nodeId: string;
  config: JsonObject;
  schema?: JsonObject;
  running: boolean;
  saved: boolean;
  onStart: () => void;
}

/** The Feeder's default message: the first configured one, else the schema's default. */
export function defaultMessage(config: JsonObject, schema?: JsonObject): { body: string; contentType: string; rows: PropertyRow[] } | null {
  let list = config.messages;
  if (list === undefined && schema) {
    const props = schema.properties as JsonObject | undefined;
    const messages = props?.messages as JsonObject | undefined;
    list = messages?.default;
  }
  if (!Array.isArray(list) || list.length === 0) return null;
  const m = list[0] as Record<string, unknown> | null;
  if (!m || typeof m !== 'object') return null;
  return {
    body: typeof m.body === 'string' ? m.body : '',
    contentType: typeof m.contentType === 'string' ? m.contentType : 'application/json',
    rows: rowsFromProperties((m.properties ?? {}) as Message['properties']),
  };
}

export function FeederPanel({ flowId, nodeId, config, schema, running, saved, onStart }: FeederPanelProps) {
  const initial = defaultMessage(config, schema);
  const [body, setBody] = useState(initial?.body ?? '{"name": "World"}');
  const [contentType, setContentType] = useState(initial?.contentType ?? 'application/json');
  const [rows, setRows] = useState<PropertyRow[]>(initial?.rows ?? []);
  const [count, setCount] = useState(5);
  const [interval, setIntervalMs] = useState(500);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [history, setHistory] = useState<{ items: Message[]; total: number } | null>(null);

  const jsonProblem = isJsonContentType(contentType) ? checkJson(body) : null;
  const props = propertiesFromRows(rows);
  const propsProblem = 'problem' in props ? props.problem : null;
  const canSend = running && !busy && !jsonProblem && !propsProblem;

  const loadHistory = useCallback(async () => {
    if (!saved) return;
    try {
      const res = await api.messages(flowId, nodeId);
      setHistory({ items: res.messages, total: res.total });
    } catch {
      // history is a convenience; the panel works without it
    }
  }, [flowId, nodeId, saved]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  const send = async (n: number, everyMs: number, override?: Message) => {
    if ('problem' in props && !override) return;
    setBusy(true);
    setNotice(null);
    try {
      const req = override
        ? { body: override.body, bodyEncoding: override.bodyEncoding ?? 'utf8', contentType: override.contentType ?? 'text/plain', properties: override.properties ?? {}, count: 1, intervalMs: 0 }
        : { body, bodyEncoding: 'utf8' as const, contentType, properties: 'properties' in props ? props.properties : {}, count: n, intervalMs: everyMs };
      const res = await api.send(flowId, nodeId, req);
      setNotice({ tone: 'ok', text: res.accepted === 1 ? 'Sent 1 message.' : `Accepted ${res.accepted} messages${everyMs > 0 ? `, one every ${everyMs} ms` : ''}.` });
      window.setTimeout(() => void loadHistory(), Math.min(n * everyMs + 300, 5000));
    } catch (e) {
      setNotice({ tone: 'error', text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };

  const format = () => {
    try {
      setBody(JSON.stringify(JSON.parse(body), null, 2));
    } catch {
      // the JSON check already says what is wrong
    }
  };

  const setRow = (i: number, patch: Partial<PropertyRow>) => setRows((r) => r.map((row, j) => (j === i ? { ...row, ...patch } : row)));

  return (
    <div className="lf-run lf-feeder" data-testid="feeder-panel">
      {!running && (
        <div className="lf-callout">
          {saved ? 'The flow is stopped. Start it to send messages.' : 'Save the flow, then start it to send messages.'}{' '}
          <button type="button" className="lf-btn lf-btn--small lf-btn--primary" onClick={onStart}>
            {saved ? 'Start flow' : 'Save & start'}
          </button>
        </div>
      )}
      <label className="lf-field">
        <span>Content type</span>
        <input className="lf-input lf-mono" list="lf-content-types" value={contentType} onChange={(e) => setContentType(e.target.value)} data-testid="feeder-content-type" />
        <datalist id="lf-content-types">
          {CONTENT_TYPES.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
      </label>
      <label className="lf-field">
        <span className="lf-row lf-row--between">
          <span>Body</span>
          <span>
            {isJsonContentType(contentType) && (
              <button type="button" className="lf-link" onClick={format} disabled={Boolean(jsonProblem)}>
                Format JSON
              </button>
            )}
            {initial && (
              <button
                type="button"
                className="lf-link"
                onClick={() => {
                  setBody(initial.body);
                  setContentType(initial.contentType);
                  setRows(initial.rows);
                }}
              >
                Load default message
              </button>
            )}
          </span>
        </span>
        <textarea
          className={`lf-input lf-code-input${jsonProblem ? ' is-invalid' : ''}`}
          rows={7}
          value={body}
          spellCheck={false}
          onChange={(e) => setBody(e.target.value)}
          aria-invalid={Boolean(jsonProblem)}
          aria-describedby="feeder-json-state"
          data-testid="feeder-body"
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && canSend) {
              e.preventDefault();
              void send(1, 0);
            }
          }}
        />
      </label>
      <p id="feeder-json-state" className={`lf-note${jsonProblem ? ' lf-note--error' : ''}`} data-testid="feeder-json-state">
        {isJsonContentType(contentType)
          ? jsonProblem
            ? `Not valid JSON${jsonProblem.line ? ` (line ${jsonProblem.line}, column ${jsonProblem.column})` : ''}: ${jsonProblem.message}`
            : '✓ Valid JSON'
          : 'Sent as text. Ctrl+Enter sends.'}
      </p>

      <fieldset className="lf-fieldset">
        <legend>Properties</legend>
        {rows.length === 0 && <p className="lf-note">No properties. Properties travel with the message as header values.</p>}
        {rows.length > 0 && (
          <table className="lf-table lf-props-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Value</th>
                <th>
                  <span className="lf-sr">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td>
                    <input className="lf-input lf-mono" aria-label={`Property ${i + 1} name`} value={r.name} onChange={(e) => setRow(i, { name: e.target.value })} />
                  </td>
                  <td>
                    <select className="lf-input" aria-label={`Property ${i + 1} type`} value={r.type} onChange={(e) => setRow(i, { type: e.target.value as PropertyType })}>
                      <option value="string">string</option>
                      <option value="number">number</option>
                      <option value="boolean">boolean</option>
                      <option value="null">null</option>
                    </select>
                  </td>
                  <td>
                    {r.type === 'boolean' ? (
                      <select className="lf-input" aria-label={`Property ${i + 1} value`} value={r.value} onChange={(e) => setRow(i, { value: e.target.value })}>
                        <option value="">—</option>
                        <option value="true">true</option>
                        <option value="false">false</option>
                      </select>
                    ) : (
                      <input className="lf-input lf-mono" aria-label={`Property ${i + 1} value`} value={r.value} disabled={r.type === 'null'} onChange={(e) => setRow(i, { value: e.target.value })} />
                    )}
                  </td>
                  <td>
                    <button type="button" className="lf-icon-btn" aria-label={`Remove property ${r.name || i + 1}`} onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>
                      ✕
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <button type="button" className="lf-btn lf-btn--small" onClick={() => setRows((r) => [...r, { name: '', type: 'string', value: '' }])}>
          + Add property
        </button>
        {propsProblem && <p className="lf-note lf-note--error">{propsProblem}</p>}
      </fieldset>

      <div className="lf-send-row">
        <button type="button" className="lf-btn lf-btn--primary" disabled={!canSend} onClick={() => void send(1, 0)} data-testid="feeder-send">
          Send
        </button>
        <span className="lf-send-n">
          <button type="button" className="lf-btn" disabled={!canSend || count < 1} onClick={() => void send(count, interval)} data-testid="feeder-send-n">
            Send N times
          </button>
          <label>
            <span className="lf-sr">Number of messages</span>
            <input className="lf-input lf-num" type="number" min={1} max={10000} value={count} onChange={(e) => setCount(Math.max(1, Number(e.target.value) || 1))} aria-label="N (number of messages)" />
          </label>
          <span className="lf-muted">every</span>
          <label>
            <input className="lf-input lf-num" type="number" min={0} step={100} value={interval} onChange={(e) => setIntervalMs(Math.max(0, Number(e.target.value) || 0))} aria-label="Interval between messages (ms)" />
          </label>
          <span className="lf-muted">ms</span>
        </span>
      </div>
      {notice && (
        <p className={`lf-note ${notice.tone === 'ok' ? 'lf-note--ok' : 'lf-note--error'}`} role="status" data-testid="feeder-notice">
          {notice.text}
        </p>
      )}

      <section className="lf-history" aria-label="Sent history">
        <div className="lf-row lf-row--between">
          <h4>
            History {history ? <span className="lf-muted">(last {history.items.length} of {history.total})</span> : null}
          </h4>
          <button type="button" className="lf-link" onClick={() => void loadHistory()} disabled={!saved}>
            Refresh
          </button>
        </div>
        {(!history || history.items.length === 0) && <p className="lf-note">Messages you send appear here; pick one to load or resend it.</p>}
        <ul className="lf-msg-list">
          {[...(history?.items ?? [])].reverse().map((m, i) => (
            <li key={m.id ?? i} className="lf-msg-row">
              <time className="lf-muted">{formatTime(m.timestamp)}</time>
              <span className="lf-msg-preview lf-mono">{preview(m, 60)}</span>
              <button
                type="button"
                className="lf-link"
                onClick={() => {
                  setBody(m.body);
                  if (m.contentType) setContentType(m.contentType);
                  setRows(rowsFromProperties(m.properties));
                }}
              >
                Load
              </button>
              <button type="button" className="lf-link" disabled={!running || busy} onClick={() => void send(1, 0, m)}>
                Resend
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
