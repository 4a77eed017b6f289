// One message in full: Body and Properties tabs; JSON pretty-printed, base64 labelled as such.
import { useId, useState } from 'react';
import type { Message } from '../api/types';
import { errorSummary, formatTime, isErrorMessage, renderBody } from '../lib/message';

export function MessageView({ message, label }: { message: Message; label?: string }) {
  const [tab, setTab] = useState<'body' | 'properties'>('body');
  const id = useId();
  const body = renderBody(message);
  const props = Object.entries(message.properties ?? {});
  const isError = isErrorMessage(message);
  const summary = isError ? errorSummary(message) : null;
  return (
    <div className={`lf-message${isError ? ' is-error' : ''}`} data-testid="message-view">
      <div className="lf-message-head">
        {label && <span className="lf-message-label">{label}</span>}
        {isError && <span className="lf-pill lf-pill--error">error record</span>}
        <span className="lf-pill">{message.contentType || 'no content type'}</span>
        {message.timestamp && <time className="lf-muted" dateTime={message.timestamp}>{formatTime(message.timestamp)}</time>}
      </div>
      {summary && (
        <p className="lf-error-summary" data-testid="error-summary">
          {summary}
        </p>
      )}
      <div className="lf-tabs lf-tabs--small" role="tablist" aria-label="Message parts">
        <button type="button" role="tab" id={`${id}-b`} aria-selected={tab === 'body'} aria-controls={`${id}-bp`} className="lf-tab" onClick={() => setTab('body')}>
          Body
        </button>
        <button type="button" role="tab" id={`${id}-p`} aria-selected={tab === 'properties'} aria-controls={`${id}-pp`} className="lf-tab" onClick={() => setTab('properties')}>
          Properties <span className="lf-count">{props.length}</span>
        </button>
      </div>
      {tab === 'body' ? (
        <div role="tabpanel" id={`${id}-bp`} aria-labelledby={`${id}-b`}>
          {body.kind === 'base64' && (
            <p className="lf-note">
              <span className="lf-pill lf-pill--warn">base64</span> binary body, {body.bytes} bytes — shown encoded
            </p>
          )}
          {body.kind === 'empty' ? <p className="lf-note">(empty body)</p> : <pre className={`lf-code lf-code--${body.kind}`} data-testid="message-body">{body.text}</pre>}
        </div>
      ) : (
        <div role="tabpanel" id={`${id}-pp`} aria-labelledby={`${id}-p`}>
          {props.length === 0 ? (
            <p className="lf-note">No properties.</p>
          ) : (
            <table className="lf-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {props.map(([k, v]) => (
                  <tr key={k}>
                    <td className="lf-mono">{k}</td>
                    <td className="lf-mono">{v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
