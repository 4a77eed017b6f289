// The side panel for one node: rename, property sheet, and its run window (by the component's
// capabilities: send, the messages kept, or live status and recent error records).
import { forwardRef, lazy, Suspense, type ReactNode } from 'react';
import type { ComponentDescriptor, JsonObject } from '../api/types';
import type { InspectorTab } from '../context';
import type { NodeIssue } from '../lib/issues';
import type { DesignerNode } from '../lib/model';
import type { RuntimeState } from '../lib/runtime';
import { capabilitiesOf, roleIcon, roleOf, runTabLabel } from '../lib/capabilities';
import { DisplayPanel } from './DisplayPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { FeederPanel } from './FeederPanel';

// rjsf and Ajv are most of the bundle: load them with the first property sheet opened.
const PropertySheet = lazy(() => import('./PropertySheet').then((m) => ({ default: m.PropertySheet })));

interface InspectorProps {
  node: DesignerNode;
  descriptor: ComponentDescriptor | undefined;
  flowId: string;
  saved: boolean;
  tab: InspectorTab;
  onTab: (t: InspectorTab) => void;
  issues: NodeIssue[];
  runtime: RuntimeState;
  onRename: (name: string) => void;
  onConfig: (config: JsonObject) => void;
  onClearSecret: (pointer: string, clear: boolean) => void;
  onClose: () => void;
  onStart: () => void;
  onClearMessages: () => void;
}

export const Inspector = forwardRef<HTMLInputElement, InspectorProps>(function Inspector(p, nameRef) {
  const { node, descriptor, flowId, saved, tab, onTab, issues, runtime } = p;
  const running = runtime.flowState === 'running';
  const status = runtime.nodes[node.id];
  const messageCount = runtime.messages[node.id]?.items.length ?? 0;
  const can = capabilitiesOf(descriptor);
  const role = roleOf(can);

  let body: ReactNode;
  if (tab === 'properties') {
    body = descriptor ? (
      <ErrorBoundary what="property sheet" resetKey={`${node.id}:${descriptor.type}`}>
      <Suspense fallback={<p className="lf-note">Loading the property sheet…</p>}>
      <PropertySheet
        descriptor={descriptor}
        nodeId={node.id}
        flowId={saved ? flowId : undefined}
        config={node.data.config}
        secretsSet={node.data.secretsSet ?? []}
        secretsClear={node.data.secretsClear ?? []}
        issues={issues}
        onChange={p.onConfig}
        onClearSecret={p.onClearSecret}
      />
      </Suspense>
      </ErrorBoundary>
    ) : (
      <p className="lf-note lf-note--error">The server does not know the component type “{node.data.type}”. Delete this node or change the flow file.</p>
    );
  } else if (can.acceptsSend) {
    body = <FeederPanel key={node.id} flowId={flowId} nodeId={node.id} config={node.data.config} schema={descriptor?.schema} running={running} saved={saved} onStart={p.onStart} />;
  } else if (can.showsMessages) {
    body = <DisplayPanel key={node.id} log={runtime.messages[node.id]} running={running} onClear={p.onClearMessages} />;
  } else {
    const errors = runtime.errors[node.id] ?? [];
    body = (
      <div className="lf-run" data-testid="activity-panel">
        <dl className="lf-stats">
          <div>
            <dt>State</dt>
            <dd>{status?.state ?? (running ? 'starting' : 'stopped')}</dd>
          </div>
          <div>
            <dt>Received</dt>
            <dd>{status?.received ?? 0}</dd>
          </div>
          <div>
            <dt>Emitted</dt>
            <dd>{status?.emitted ?? 0}</dd>
          </div>
          <div>
            <dt>Errors</dt>
            <dd>{status?.errors ?? 0}</dd>
          </div>
        </dl>
        {status?.lastError && (
          <div className="lf-callout lf-callout--error">
            <strong>Last error</strong> {status.lastError.type} / {status.lastError.code}: {status.lastError.message}
          </div>
        )}
        <h4>Recent error records</h4>
        {errors.length === 0 ? (
          <p className="lf-note">None. Wire the error port to a Display to keep them as messages too.</p>
        ) : (
          [...errors].reverse().map((r, i) => (
            <pre key={i} className="lf-code">
              {JSON.stringify(r, null, 2)}
            </pre>
          ))
        )}
      </div>
    );
  }

  return (
    <aside className="lf-inspector" aria-label={`${node.data.name} inspector`} data-testid="inspector">
      <header className="lf-inspector-head">
        <span className={`lf-node-icon lf-node-icon--${role}`} aria-hidden="true">
          {roleIcon(role)}
        </span>
        <div className="lf-inspector-titles">
          <label className="lf-sr" htmlFor="inspector-name">
            Node name
          </label>
          <input id="inspector-name" ref={nameRef} className="lf-input lf-title-input" value={node.data.name} onChange={(e) => p.onRename(e.target.value)} data-testid="node-name" />
          <div className="lf-muted lf-small">
            <span className="lf-mono">{node.id}</span> · {descriptor?.title ?? node.data.type}
          </div>
        </div>
        <button type="button" className="lf-icon-btn" aria-label="Close inspector" onClick={p.onClose} title="Close (Esc)">
          ✕
        </button>
      </header>
      {descriptor?.description && <p className="lf-note lf-inspector-desc">{descriptor.description}</p>}
      <div className="lf-tabs" role="tablist" aria-label="Inspector">
        <button type="button" role="tab" aria-selected={tab === 'properties'} className="lf-tab" onClick={() => onTab('properties')} data-testid="tab-properties">
          Properties {issues.length > 0 && <span className="lf-count lf-count--error">{issues.length}</span>}
        </button>
        <button type="button" role="tab" aria-selected={tab === 'run'} className="lf-tab" onClick={() => onTab('run')} data-testid="tab-run">
          {runTabLabel(can)}
          {can.showsMessages && messageCount > 0 && <span className="lf-count">{messageCount}</span>}
          {runTabLabel(can) === 'Activity' && (status?.errors ?? 0) > 0 && <span className="lf-count lf-count--error">{status?.errors}</span>}
        </button>
      </div>
      <div className="lf-inspector-body" role="tabpanel">
        {body}
      </div>
    </aside>
  );
});
