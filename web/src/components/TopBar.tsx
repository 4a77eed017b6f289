// The bar across the top: sidebar toggle, brand, the open flow's name and save state, and the
// flow actions (undo, redo, save, deploy, stop, run state, debug, import, export).
import { useRef } from 'react';
import type { Busy } from '../stores/useFlowActions';

export interface TopBarProps {
  sidebarOpen: boolean;
  onToggleSidebar: () => void;
  /** The open flow, or null when none is. */
  flow: { id: string; name: string; dirty: boolean; onServer: boolean } | null;
  onRename: (name: string) => void;
  canUndo: boolean;
  canRedo: boolean;
  onUndo: () => void;
  onRedo: () => void;
  busy: Busy;
  onSave: () => void;
  /** Nothing to deploy: the flow has no nodes. */
  emptyFlow: boolean;
  onDeploy: () => void;
  /** Nodes that differ from the running version. */
  pending: number;
  running: boolean;
  flowState: string;
  connected: boolean;
  onStop: () => void;
  debugOpen: boolean;
  debugCount: number;
  onToggleDebug: () => void;
  onImport: (file: File) => void;
  onExport: () => void;
}

export function TopBar(p: TopBarProps) {
  const fileRef = useRef<HTMLInputElement>(null);
  const { flow, busy, running, pending } = p;
  const open = flow !== null;
  return (
    <header className="lf-topbar">
      <button type="button" className="lf-icon-btn lf-sidebar-toggle" aria-label={p.sidebarOpen ? 'Hide sidebar' : 'Show sidebar'} aria-expanded={p.sidebarOpen} onClick={p.onToggleSidebar}>
        ☰
      </button>
      <div className="lf-brand" aria-label="lambdaflow">
        <span className="lf-brand-mark">λ</span>
        <span className="lf-brand-name">lambdaflow</span>
      </div>
      {flow ? (
        <div className="lf-flowtitle">
          <label className="lf-sr" htmlFor="flow-name">
            Flow name
          </label>
          <input id="flow-name" className="lf-input lf-title-input" value={flow.name} onChange={(e) => p.onRename(e.target.value)} data-testid="flow-name" />
          <span className="lf-mono lf-muted lf-small" title="Flow id (the file name)">
            {flow.id}
          </span>
          <span className={`lf-save-state${flow.dirty ? ' is-dirty' : ''}`} data-testid="save-state">
            {flow.dirty ? '● unsaved changes' : flow.onServer ? 'saved' : 'not saved'}
          </span>
        </div>
      ) : (
        <div className="lf-flowtitle lf-muted">No flow open</div>
      )}
      <div className="lf-toolbar" role="toolbar" aria-label="Flow actions">
        <button type="button" className="lf-btn" onClick={p.onUndo} disabled={!p.canUndo} title="Undo (Ctrl+Z)" aria-label="Undo">
          ↶
        </button>
        <button type="button" className="lf-btn" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Ctrl+Shift+Z)" aria-label="Redo">
          ↷
        </button>
        <button type="button" className="lf-btn" onClick={p.onSave} disabled={!open || busy === 'saving'} title="Save (Ctrl+S)" data-testid="save">
          {busy === 'saving' ? 'Saving…' : 'Save'}
        </button>
        <span className="lf-toolbar-sep" />
        <button
          type="button"
          className={`lf-btn lf-btn--go${pending > 0 || !running ? ' lf-btn--attention' : ''}`}
          onClick={p.onDeploy}
          disabled={!open || p.emptyFlow || busy === 'deploying' || busy === 'saving'}
          data-testid="deploy"
          title={running ? (pending > 0 ? `${pending} node${pending === 1 ? '' : 's'} differ from the running version: save and restart the flow with them` : 'Save and apply to the running flow') : 'Save and start the flow'}
        >
          ▶ {busy === 'deploying' ? 'Deploying…' : 'Deploy'}
          {running && pending > 0 && (
            <span className="lf-count" data-testid="deploy-pending">
              {pending}
            </span>
          )}
        </button>
        {running && (
          <button type="button" className="lf-btn lf-btn--stop" onClick={p.onStop} disabled={busy === 'stopping'} data-testid="stop">
            ■ Stop
          </button>
        )}
        <span className={`lf-run-state lf-run-state--${p.flowState}`} data-testid="flow-state" title={p.connected ? 'Live updates connected' : 'Live updates not connected'}>
          <span className={`lf-dot lf-dot--${running ? 'running' : 'stopped'}`} />
          {running ? 'running' : open ? 'stopped' : '—'}
          {open && flow.onServer && !p.connected && <span className="lf-muted"> · offline</span>}
        </span>
        <button type="button" className={`lf-btn${p.debugOpen ? ' is-active' : ''}`} onClick={p.onToggleDebug} aria-pressed={p.debugOpen} disabled={!open} data-testid="debug-toggle" title="Everything the Displays and error ports receive">
          Debug{p.debugCount > 0 && <span className="lf-count">{p.debugCount}</span>}
        </button>
        <span className="lf-toolbar-sep" />
        <button type="button" className="lf-btn" onClick={() => fileRef.current?.click()} title="Import a flow JSON file">
          Import
        </button>
        <button type="button" className="lf-btn" onClick={p.onExport} disabled={!open} title="Download the flow — or, with several nodes selected, those — as JSON (without secrets)" data-testid="export">
          Export
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="import-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) p.onImport(f);
          }}
        />
      </div>
    </header>
  );
}
