// The Display's window: live messages (oldest dropped past maxMessages), one shown in full.
import { useEffect, useState } from 'react';
import type { Message } from '../api/types';
import type { DisplayLog } from '../lib/runtime';
import { formatTime, isErrorMessage, preview } from '../lib/message';
import { MessageView } from './MessageView';

interface DisplayPanelProps {
  log: DisplayLog | undefined;
  running: boolean;
  onClear: () => void;
}

export function DisplayPanel({ log, running, onClear }: DisplayPanelProps) {
  const items = log?.items ?? [];
  const [follow, setFollow] = useState(true);
  const [selected, setSelected] = useState<number>(items.length - 1);

  useEffect(() => {
    if (follow) setSelected(items.length - 1);
    else if (selected >= items.length) setSelected(items.length - 1);
  }, [items.length, follow, selected, items]);

  const current: Message | undefined = items[selected] ?? items.at(-1);

  return (
    <div className="lf-run lf-display" data-testid="display-panel">
      <div className="lf-row lf-row--between">
        <h4>
          History <span className="lf-muted" data-testid="display-count">(last {items.length} of {log?.total ?? 0})</span>
        </h4>
        <span className="lf-row">
          <label className="lf-check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow latest
          </label>
          <button type="button" className="lf-btn lf-btn--small" onClick={onClear} disabled={items.length === 0}>
            Clear
          </button>
        </span>
      </div>
      {items.length === 0 && (
        <p className="lf-note lf-empty-inline" data-testid="display-empty">
          {running ? 'Waiting for messages… send one from a Feeder.' : 'No messages yet. Start the flow and send a message from a Feeder.'}
        </p>
      )}
      {items.length > 0 && (
        <ol className="lf-msg-list lf-msg-list--select" aria-label="Received messages">
          {items.map((m, i) => (
            <li key={m.id ?? i}>
              <button
                type="button"
                className={`lf-msg-row${i === selected ? ' is-selected' : ''}${isErrorMessage(m) ? ' is-error' : ''}`}
                aria-pressed={i === selected}
                onClick={() => {
                  setSelected(i);
                  setFollow(i === items.length - 1);
                }}
              >
                <span className="lf-muted lf-msg-num">#{(log?.total ?? items.length) - items.length + i + 1}</span>
                <time className="lf-muted">{formatTime(m.timestamp)}</time>
                <span className="lf-msg-preview lf-mono">{preview(m, 56)}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
      {current && <MessageView message={current} />}
    </div>
  );
}
