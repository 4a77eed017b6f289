// Flow list with New, Open and Delete. New flow ids are checked against design §3's pattern.
import { useState, type FormEvent } from 'react';
import type { FlowSummary } from '../api/types';
import { flowIdProblem, slugify } from '../lib/ids';

interface FlowsPanelProps {
  flows: FlowSummary[] | null;
  currentId: string | null;
  error?: string | null;
  onOpen: (id: string) => void;
  onCreate: (id: string, name: string) => void;
  onDelete: (id: string) => void;
  autoOpenNew?: boolean;
}

export function NewFlowForm({ existing, onCreate, onCancel, autoFocus }: { existing: string[]; onCreate: (id: string, name: string) => void; onCancel?: () => void; autoFocus?: boolean }) {
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [idTouched, setIdTouched] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const effectiveId = idTouched ? id : slugify(name);
  const problem = flowIdProblem(effectiveId, existing);
  const showProblem = problem && (submitted || idTouched || name.length > 0);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (problem) return;
    onCreate(effectiveId, name.trim() || effectiveId);
  };

  return (
    <form className="lf-newflow" onSubmit={submit} aria-label="New flow">
      <label className="lf-field">
        <span>Name</span>
        <input className="lf-input" value={name} onChange={(e) => setName(e.target.value)} placeholder="Lambda sync demo" autoFocus={autoFocus} data-testid="new-flow-name" />
      </label>
      <label className="lf-field">
        <span>Id</span>
        <input
          className={`lf-input lf-mono${showProblem ? ' is-invalid' : ''}`}
          value={effectiveId}
          onChange={(e) => {
            setIdTouched(true);
            setId(e.target.value);
          }}
          placeholder="lambda-sync-demo"
          aria-invalid={Boolean(showProblem)}
          aria-describedby="new-flow-id-help"
          data-testid="new-flow-id"
        />
      </label>
      <p id="new-flow-id-help" className={`lf-note${showProblem ? ' lf-note--error' : ''}`}>
        {showProblem ? problem : 'Lower-case letters, digits, "-" and "_"; it names the file.'}
      </p>
      <div className="lf-row">
        <button type="submit" className="lf-btn lf-btn--primary" data-testid="new-flow-create">
          Create flow
        </button>
        {onCancel && (
          <button type="button" className="lf-btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

export function FlowsPanel({ flows, currentId, error, onOpen, onCreate, onDelete }: FlowsPanelProps) {
  const [creating, setCreating] = useState(false);
  const existing = (flows ?? []).map((f) => f.id);
  return (
    <section className="lf-section lf-flows" aria-label="Flows">
      <div className="lf-section-head">
        <h2 className="lf-section-title">Flows</h2>
        <button type="button" className="lf-btn lf-btn--small" onClick={() => setCreating((v) => !v)} aria-expanded={creating} data-testid="new-flow">
          + New
        </button>
      </div>
      {creating && (
        <NewFlowForm
          existing={existing}
          autoFocus
          onCancel={() => setCreating(false)}
          onCreate={(id, name) => {
            setCreating(false);
            onCreate(id, name);
          }}
        />
      )}
      {error && <p className="lf-note lf-note--error">{error}</p>}
      {flows === null && !error && <p className="lf-note">Loading flows…</p>}
      {flows && flows.length === 0 && !creating && <p className="lf-note">No flows yet. Create one with “+ New”.</p>}
      <ul className="lf-flow-list">
        {(flows ?? []).map((f) => (
          <li key={f.id} className={f.id === currentId ? 'is-current' : undefined}>
            <button type="button" className="lf-flow-item" onClick={() => onOpen(f.id)} aria-current={f.id === currentId ? 'page' : undefined} title={f.description || f.id}>
              <span className={`lf-dot lf-dot--${f.state}`} aria-label={f.state} />
              <span className="lf-flow-name">{f.name || f.id}</span>
              <span className="lf-flow-id">{f.id}</span>
            </button>
            <button type="button" className="lf-icon-btn" aria-label={`Delete flow ${f.id}`} title="Delete flow" onClick={() => onDelete(f.id)}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
