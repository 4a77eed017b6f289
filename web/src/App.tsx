// The designer: flows on the left with the palette, the canvas in the middle, the inspector on
// the right, and the run controls on top. State lives in two reducers: the editor (document,
// undo history, validation issues) and the runtime (live status and messages from SSE).
import { useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { ApiError, api, describeError } from './api/client';
import type { ComponentDescriptor, FlowDocument, FlowEvent, FlowSummary, Json, JsonObject } from './api/types';
import { Canvas } from './components/Canvas';
import { DebugPanel } from './components/DebugPanel';
import { Dialog } from './components/Dialog';
import { TokenDialog } from './components/TokenDialog';
import { FlowsPanel, NewFlowForm } from './components/FlowsPanel';
import { Inspector } from './components/Inspector';
import { Palette } from './components/Palette';
import { DesignerContext, type DesignerContextValue, type InspectorTab } from './context';
import { canRedo, canUndo } from './lib/history';
import { currentSnapshot, editorReducer, emptyEditor, isDirty, toFlowDocument } from './lib/editor';
import { issueCount, issuesFromDetails } from './lib/issues';
import { flowIdProblem } from './lib/ids';
import { parseFlowDocument } from './lib/model';
import { initialRuntime, runtimeReducer } from './lib/runtime';
import { useLiveEvents } from './stores/useLiveEvents';
import { usePaletteDrag } from './stores/usePaletteDrag';
import { stripWriteOnly } from './lib/schema';
import { deployDiff } from './lib/deploy';
import { fragmentOf, type Fragment } from './lib/clipboard';
import { issueHeadline } from './lib/messages';
import { debugReducer, type DebugEntry } from './lib/debug';
import { useDeployed } from './stores/useDeployed';

type DialogState =
  | { kind: 'conflict'; status: number }
  | { kind: 'deleteFlow'; id: string }
  | { kind: 'discard'; action: () => void; what: string }
  | { kind: 'importOverwrite'; flow: FlowDocument }
  | { kind: 'token' };

interface Toast {
  id: number;
  tone: 'ok' | 'error' | 'info';
  text: string;
}

function flowIdFromHash(): string | null {
  const m = /^#\/flow\/([^/?#]+)/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

function isEditable(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

/** The flow as exported: no rev, no secret values, no secret bookkeeping. */
export function exportDocument(doc: FlowDocument, components: ReadonlyMap<string, ComponentDescriptor>): FlowDocument {
  const out: FlowDocument = { id: doc.id, name: doc.name, nodes: [], edges: doc.edges };
  if (doc.description) out.description = doc.description;
  out.nodes = doc.nodes.map((n) => {
    const schema = components.get(n.type)?.schema;
    const config = schema ? (stripWriteOnly(n.config as Json, schema) as JsonObject) : n.config;
    return { id: n.id, type: n.type, name: n.name, position: n.position, config };
  });
  return out;
}

export function App() {
  const rf = useReactFlow();
  const [components, setComponents] = useState<ComponentDescriptor[]>([]);
  const [componentsError, setComponentsError] = useState<string | null>(null);
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [flowsError, setFlowsError] = useState<string | null>(null);
  const [editor, dispatch] = useReducer(editorReducer, undefined, emptyEditor);
  const [runtime, rdispatch] = useReducer(runtimeReducer, undefined, initialRuntime);
  const [debug, setDebug] = useState<DebugEntry[]>([]);
  const [debugOpen, setDebugOpen] = useState(false);
  const runtimeRef = useRef(runtime);
  runtimeRef.current = runtime;
  const [tab, setTab] = useState<InspectorTab>('properties');
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [busy, setBusy] = useState<null | 'saving' | 'starting' | 'stopping' | 'loading' | 'deploying'>(null);
  const [sidebarOpen, setSidebarOpen] = useState(() => typeof window === 'undefined' || window.innerWidth > 860);
  const nameRef = useRef<HTMLInputElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const toastSeq = useRef(0);
  // while a component is dragged from the palette the sheet steps aside: every drop lands on the canvas
  const paletteDrag = usePaletteDrag();
  const clipboard = useRef<{ fragment: Fragment; pasted: number } | null>(null);

  const byType = useMemo(() => new Map(components.map((c) => [c.type, c])), [components]);
  const editorRef = useRef(editor);
  editorRef.current = editor;
  const { deployed, refresh: refreshDeployed, forget: forgetDeployed } = useDeployed(editor.meta.id);
  const open = editor.meta.id !== '';
  const onServer = editor.savedFingerprint !== '' || editor.rev !== undefined;
  const dirty = open && isDirty(editor);
  const running = runtime.flowState === 'running';
  const selectedNodes = editor.nodes.filter((n) => n.selected);
  const inspected = selectedNodes.length === 1 ? selectedNodes[0]! : null;

  const toast = useCallback((tone: Toast['tone'], text: string) => {
    const id = ++toastSeq.current;
    setToasts((t) => [...t.slice(-1), { id, tone, text }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), tone === 'error' ? 9000 : 3000);
  }, []);

  const handleAuth = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) setDialog({ kind: 'token' });
  }, []);

  const refreshFlows = useCallback(async () => {
    try {
      setFlows(await api.listFlows());
      setFlowsError(null);
    } catch (e) {
      handleAuth(e);
      setFlowsError(`Could not list flows: ${describeError(e)}`);
    }
  }, [handleAuth]);

  // ---- loading -------------------------------------------------------------------------------
  useEffect(() => {
    api
      .components()
      .then((c) => {
        setComponents(c);
        setComponentsError(null);
      })
      .catch((e) => {
        handleAuth(e);
        setComponentsError(`Could not load components: ${describeError(e)}`);
      });
    void refreshFlows();
  }, [refreshFlows, handleAuth]);

  const fitSoon = useCallback(() => {
    window.setTimeout(() => void rf.fitView({ maxZoom: 1.1, padding: 0.2, duration: 200 }), 60);
  }, [rf]);

  const loadFlow = useCallback(
    async (id: string) => {
      setBusy('loading');
      try {
        const flow = await api.getFlow(id);
        dispatch({ type: 'load', flow, saved: true });
        rdispatch({ type: 'reset' });
        setTab('properties');
        if (flowIdFromHash() !== id) window.location.hash = `#/flow/${encodeURIComponent(id)}`;
        fitSoon();
      } catch (e) {
        handleAuth(e);
        toast('error', e instanceof ApiError && e.status === 404 ? `There is no flow “${id}”.` : `Could not open “${id}”: ${describeError(e)}`);
      } finally {
        setBusy(null);
      }
    },
    [fitSoon, toast, handleAuth],
  );

  const guard = useCallback(
    (what: string, action: () => void) => {
      if (dirty) setDialog({ kind: 'discard', action, what });
      else action();
    },
    [dirty],
  );

  // open the flow named in the URL
  useEffect(() => {
    const id = flowIdFromHash();
    if (id) void loadFlow(id);
    const onHash = () => {
      const next = flowIdFromHash();
      if (next && next !== editorIdRef.current) void loadFlow(next);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
    // (deliberately once, on mount / on a new inspected node)
  }, []);
  const editorIdRef = useRef('');
  editorIdRef.current = editor.meta.id;

  // ---- save / run ----------------------------------------------------------------------------
  const applyIssues = useCallback(
    (e: ApiError, doc: FlowDocument, what: string) => {
      const issues = issuesFromDetails(e.details, doc);
      dispatch({ type: 'setIssues', issues });
      const n = issueCount(issues);
      toast('error', `${what}: ${issueHeadline(issues, doc, byType) ?? e.message}${n > 1 ? ` (and ${n - 1} more problem${n === 2 ? '' : 's'} marked on the canvas)` : n === 1 ? ' (marked on the canvas)' : ''}`);
      const first = Object.keys(issues.byNode)[0];
      if (first) {
        dispatch({ type: 'select', nodeIds: [first] });
        setTab('properties');
      }
    },
    [toast, byType],
  );

  const save = useCallback(
    async (opts: { overwrite?: boolean; quiet?: boolean } = {}): Promise<boolean> => {
      if (!open) return false;
      const doc = toFlowDocument(editor);
      setBusy('saving');
      try {
        const { flow } = await api.saveFlow(doc, opts.overwrite ? undefined : editor.rev);
        dispatch({ type: 'saved', flow });
        if (!opts.quiet) toast('ok', `Saved “${flow.name || flow.id}”.`);
        void refreshFlows();
        return true;
      } catch (e) {
        handleAuth(e);
        if (e instanceof ApiError && e.isConflict) setDialog({ kind: 'conflict', status: e.status });
        else if (e instanceof ApiError && e.status === 422) applyIssues(e, doc, 'Not saved');
        else toast('error', `Not saved: ${describeError(e)}`);
        return false;
      } finally {
        setBusy(null);
      }
    },
    [open, editor, toast, refreshFlows, applyIssues, handleAuth],
  );

  const stop = useCallback(async () => {
    setBusy('stopping');
    try {
      const asOf = runtimeRef.current.seq;
      const status = await api.stop(editor.meta.id);
      rdispatch({ type: 'status', status, asOf });
      void refreshFlows();
    } catch (e) {
      handleAuth(e);
      toast('error', `Not stopped: ${describeError(e)}`);
    } finally {
      setBusy(null);
    }
  }, [editor.meta.id, toast, refreshFlows, handleAuth]);

  /** The Feeder card's one-click Send: its default message, once (Node-RED's inject button). */
  const sendDefault = useCallback(
    async (nodeId: string) => {
      try {
        await api.send(editor.meta.id, nodeId, { count: 1 });
      } catch (e) {
        handleAuth(e);
        toast('error', `Not sent: ${describeError(e)}`);
      }
    },
    [editor.meta.id, toast, handleAuth],
  );

  /** Deploy, as Node-RED's: save, then start the saved version or restart a run of an older one. */
  const deploy = useCallback(async () => {
    if (!open) return;
    if (dirty || !onServer) {
      const ok = await save({ quiet: true });
      if (!ok) return;
    }
    setBusy('deploying');
    try {
      const asOf = runtimeRef.current.seq;
      const answer = await api.deploy(editor.meta.id);
      rdispatch({ type: 'status', status: answer.status, asOf });
      await refreshDeployed();
      toast('ok', answer.unchanged ? 'Deployed: the running flow is already this version.' : answer.restarted ? 'Deployed: the flow restarted with your changes.' : 'Deployed: the flow runs.');
      void refreshFlows();
    } catch (e) {
      handleAuth(e);
      if (e instanceof ApiError && e.status === 422) applyIssues(e, toFlowDocument(editor), 'Not deployed');
      else toast('error', `Not deployed: ${describeError(e)}`);
    } finally {
      setBusy(null);
    }
  }, [open, dirty, onServer, save, editor, toast, refreshFlows, applyIssues, handleAuth, refreshDeployed]);

  // ---- live events ---------------------------------------------------------------------------
  const flowId = editor.meta.id;
  const onDebug = useCallback((event: FlowEvent) => setDebug((d) => debugReducer(d, event)), []);
  useLiveEvents({ flowId, onServer, nodes: editor.nodes, serverNodes: editor.serverNodes, runtimeRef, rdispatch, onFlowChange: refreshFlows, refreshDeployed, onDebug });
  useEffect(() => {
    forgetDeployed();
    setDebug([]);
  }, [flowId, forgetDeployed]);

  // ---- flows ---------------------------------------------------------------------------------
  const createFlow = useCallback(
    (id: string, name: string) => {
      guard('create a new flow', () => {
        const flow: FlowDocument = { id, name, nodes: [], edges: [] };
        dispatch({ type: 'load', flow, saved: false });
        rdispatch({ type: 'reset' });
        window.location.hash = `#/flow/${encodeURIComponent(id)}`;
        // put it on the server right away so that it shows in the list; stays local if refused
        api
          .saveFlow(flow)
          .then(({ flow: saved }) => {
            if (editorIdRef.current === id) dispatch({ type: 'saved', flow: saved });
            void refreshFlows();
          })
          .catch(() => undefined);
      });
    },
    [guard, refreshFlows],
  );

  const openFlow = useCallback((id: string) => guard(`open “${id}”`, () => void loadFlow(id)), [guard, loadFlow]);

  const deleteFlow = useCallback(
    async (id: string) => {
      try {
        await api.deleteFlow(id);
        toast('info', `Deleted “${id}”.`);
        if (id === editor.meta.id) {
          dispatch({ type: 'load', flow: { id: '', name: '', nodes: [], edges: [] }, saved: false });
          rdispatch({ type: 'reset' });
          history.replaceState(null, '', window.location.pathname + window.location.search);
        }
        void refreshFlows();
      } catch (e) {
        handleAuth(e);
        toast('error', `Not deleted: ${describeError(e)}`);
      }
    },
    [editor.meta.id, toast, refreshFlows, handleAuth],
  );

  const exportFlow = useCallback(() => {
    const whole = toFlowDocument(editor);
    const picked = editor.nodes.filter((n) => n.selected).map((n) => n.id);
    // with several nodes selected, Export downloads those (and the routes between them)
    const partial = picked.length > 1 && picked.length < whole.nodes.length;
    const source = partial ? { ...whole, id: `${whole.id}-selection`, name: `${whole.name} (selection)`, ...fragmentOf(whole, new Set(picked)) } : whole;
    const doc = exportDocument(source, byType);
    const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${doc.id || 'flow'}.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, [editor, byType]);

  const importFile = useCallback(
    async (file: File) => {
      let value: unknown;
      try {
        value = JSON.parse(await file.text());
      } catch (e) {
        toast('error', `“${file.name}” is not JSON: ${describeError(e)}`);
        return;
      }
      const parsed = parseFlowDocument(value);
      if ('problem' in parsed) {
        toast('error', `“${file.name}” is not a flow: ${parsed.problem}`);
        return;
      }
      const flow = parsed.flow;
      const idProblem = flowIdProblem(flow.id);
      if (idProblem) {
        toast('error', `“${file.name}” has an unusable flow id “${flow.id}”: ${idProblem}`);
        return;
      }
      const doImport = () => {
        dispatch({ type: 'load', flow, saved: false });
        rdispatch({ type: 'reset' });
        window.location.hash = `#/flow/${encodeURIComponent(flow.id)}`;
        fitSoon();
        toast('info', `Imported “${flow.id}”. Save to store it.`);
      };
      if ((flows ?? []).some((f) => f.id === flow.id)) setDialog({ kind: 'importOverwrite', flow });
      else guard('import a flow', doImport);
    },
    [flows, guard, toast, fitSoon],
  );

  // ---- canvas helpers ------------------------------------------------------------------------
  const addAtCentre = useCallback(
    (type: string) => {
      const desc = byType.get(type);
      if (!desc || !open) return;
      const el = document.querySelector('.lf-canvas');
      const r = el?.getBoundingClientRect();
      const centre = r ? { x: r.left + r.width / 2, y: r.top + r.height / 2 } : { x: window.innerWidth / 2, y: window.innerHeight / 2 };
      const p = rf.screenToFlowPosition(centre);
      const offset = (editor.nodes.length % 6) * 24;
      dispatch({ type: 'addNode', componentType: type, title: desc.title, position: { x: p.x - 100 + offset, y: p.y - 50 + offset } });
    },
    [byType, open, rf, editor.nodes.length],
  );

  const inspect = useCallback((nodeId: string, t?: InspectorTab) => {
    dispatch({ type: 'select', nodeIds: [nodeId] });
    if (t) setTab(t);
  }, []);

  // a newly inspected node opens on its run tab while the flow runs, else on its properties
  const inspectedId = inspected?.id ?? null;
  const inspectedType = inspected?.data.type;
  useEffect(() => {
    if (!inspectedId) return;
    setTab(running && (inspectedType === 'feeder' || inspectedType === 'display') ? 'run' : 'properties');
    // (deliberately once, on mount / on a new inspected node)
  }, [inspectedId]);

  // ---- keyboard ------------------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        if (open) void save();
        return;
      }
      if (isEditable(e.target) || dialog) return;
      if (mod && key === 'z' && !e.shiftKey) {
        e.preventDefault();
        dispatch({ type: 'undo' });
      } else if (mod && ((key === 'z' && e.shiftKey) || key === 'y')) {
        e.preventDefault();
        dispatch({ type: 'redo' });
      } else if (e.key === 'F2' && inspected) {
        e.preventDefault();
        setTab('properties');
        window.setTimeout(() => nameRef.current?.select(), 0);
      } else if (e.key === 'Escape' && selectedNodes.length > 0) {
        dispatch({ type: 'select', nodeIds: [] });
      } else if (open && mod && key === 'a') {
        e.preventDefault();
        dispatch({ type: 'selectAll' });
      } else if (open && mod && (key === 'c' || key === 'd') && selectedNodes.length > 0) {
        e.preventDefault();
        const piece = fragmentOf(toFlowDocument(editorRef.current), new Set(selectedNodes.map((n) => n.id)));
        if (key === 'd') {
          dispatch({ type: 'paste', fragment: piece, offset: 40 });
          return;
        }
        clipboard.current = { fragment: piece, pasted: 0 };
        void navigator.clipboard?.writeText(JSON.stringify(piece, null, 2)).catch(() => undefined);
        toast('info', `Copied ${piece.nodes.length} node${piece.nodes.length === 1 ? '' : 's'}.`);
      } else if (open && mod && key === 'v' && clipboard.current) {
        e.preventDefault();
        clipboard.current.pasted += 1;
        dispatch({ type: 'paste', fragment: clipboard.current.fragment, offset: 40 * clipboard.current.pasted });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, save, dialog, inspected, selectedNodes, toast]);

  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (dirty) e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  const diff = useMemo(() => deployDiff(toFlowDocument(editor), running ? deployed : null), [editor, running, deployed]);
  const deployedIds = useMemo(() => new Set((deployed?.nodes ?? []).map((n) => n.id)), [deployed]);
  const pending = diff.changed.size + diff.removed.length;
  const ctx: DesignerContextValue = useMemo(
    () => ({ components: byType, runtime, issues: editor.issues, inspect, changed: diff.changed, deployed: deployedIds, sendDefault }),
    [byType, runtime, editor.issues, inspect, diff.changed, deployedIds, sendDefault],
  );

  const snapshotNodes = currentSnapshot(editor).nodes.length;
  const currentSummary = flows?.find((f) => f.id === editor.meta.id);

  return (
    <DesignerContext.Provider value={ctx}>
      <div className={`lf-app${sidebarOpen ? '' : ' sidebar-closed'}${inspected && !paletteDrag ? ' has-inspector' : ''}`}>
        <header className="lf-topbar">
          <button type="button" className="lf-icon-btn lf-sidebar-toggle" aria-label={sidebarOpen ? 'Hide sidebar' : 'Show sidebar'} aria-expanded={sidebarOpen} onClick={() => setSidebarOpen((v) => !v)}>
            ☰
          </button>
          <div className="lf-brand" aria-label="lambdaflow">
            <span className="lf-brand-mark">λ</span>
            <span className="lf-brand-name">lambdaflow</span>
          </div>
          {open ? (
            <div className="lf-flowtitle">
              <label className="lf-sr" htmlFor="flow-name">
                Flow name
              </label>
              <input id="flow-name" className="lf-input lf-title-input" value={editor.meta.name} onChange={(e) => dispatch({ type: 'setMeta', name: e.target.value })} data-testid="flow-name" />
              <span className="lf-mono lf-muted lf-small" title="Flow id (the file name)">
                {editor.meta.id}
              </span>
              <span className={`lf-save-state${dirty ? ' is-dirty' : ''}`} data-testid="save-state">
                {dirty ? '● unsaved changes' : onServer ? 'saved' : 'not saved'}
              </span>
            </div>
          ) : (
            <div className="lf-flowtitle lf-muted">No flow open</div>
          )}
          <div className="lf-toolbar" role="toolbar" aria-label="Flow actions">
            <button type="button" className="lf-btn" onClick={() => dispatch({ type: 'undo' })} disabled={!canUndo(editor.history)} title="Undo (Ctrl+Z)" aria-label="Undo">
              ↶
            </button>
            <button type="button" className="lf-btn" onClick={() => dispatch({ type: 'redo' })} disabled={!canRedo(editor.history)} title="Redo (Ctrl+Shift+Z)" aria-label="Redo">
              ↷
            </button>
            <button type="button" className="lf-btn" onClick={() => void save()} disabled={!open || busy === 'saving'} title="Save (Ctrl+S)" data-testid="save">
              {busy === 'saving' ? 'Saving…' : 'Save'}
            </button>
            <span className="lf-toolbar-sep" />
            <button
              type="button"
              className={`lf-btn lf-btn--go${pending > 0 || !running ? ' lf-btn--attention' : ''}`}
              onClick={() => void deploy()}
              disabled={!open || snapshotNodes === 0 || busy === 'deploying' || busy === 'saving'}
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
              <button type="button" className="lf-btn lf-btn--stop" onClick={() => void stop()} disabled={busy === 'stopping'} data-testid="stop">
                ■ Stop
              </button>
            )}
            <span className={`lf-run-state lf-run-state--${runtime.flowState}`} data-testid="flow-state" title={runtime.connected ? 'Live updates connected' : 'Live updates not connected'}>
              <span className={`lf-dot lf-dot--${running ? 'running' : 'stopped'}`} />
              {running ? 'running' : open ? 'stopped' : '—'}
              {open && onServer && !runtime.connected && <span className="lf-muted"> · offline</span>}
            </span>
            <button type="button" className={`lf-btn${debugOpen ? ' is-active' : ''}`} onClick={() => setDebugOpen((v) => !v)} aria-pressed={debugOpen} disabled={!open} data-testid="debug-toggle" title="Everything the Displays and error ports receive">
              Debug{debug.length > 0 && <span className="lf-count">{debug.length}</span>}
            </button>
            <span className="lf-toolbar-sep" />
            <button type="button" className="lf-btn" onClick={() => fileRef.current?.click()} title="Import a flow JSON file">
              Import
            </button>
            <button type="button" className="lf-btn" onClick={exportFlow} disabled={!open} title="Download the flow — or, with several nodes selected, those — as JSON (without secrets)" data-testid="export">
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
                if (f) void importFile(f);
              }}
            />
          </div>
        </header>

        <nav className="lf-sidebar" aria-label="Flows and components">
          <FlowsPanel flows={flows} currentId={open ? editor.meta.id : null} error={flowsError} onOpen={openFlow} onCreate={createFlow} onDelete={(id) => setDialog({ kind: 'deleteFlow', id })} />
          <Palette components={components} onAdd={addAtCentre} disabled={!open} error={componentsError} />
          <section className="lf-section lf-help" aria-label="Keyboard">
            <h2 className="lf-section-title">Keys</h2>
            <dl className="lf-keys">
              <dt>Ctrl+Z / Ctrl+Shift+Z</dt>
              <dd>undo / redo</dd>
              <dt>Delete</dt>
              <dd>remove selection</dd>
              <dt>Shift/Ctrl+click</dt>
              <dd>multi-select</dd>
              <dt>F2</dt>
              <dd>rename node</dd>
              <dt>Ctrl+S</dt>
              <dd>save</dd>
              <dt>Ctrl+A / C / V / D</dt>
              <dd>select all / copy / paste / duplicate</dd>
            </dl>
          </section>
        </nav>

        <main className="lf-main">
          {editor.issues.general.length > 0 && (
            <div className="lf-callout lf-callout--error lf-banner" role="alert">
              {editor.issues.general.map((g, i) => (
                <div key={i}>{g}</div>
              ))}
            </div>
          )}
          {open && debugOpen && (
            <DebugPanel
              entries={debug}
              names={new Map(editor.nodes.map((n) => [n.id, n.data.name]))}
              onSelect={(id) => inspect(id)}
              onClear={() => setDebug([])}
              onClose={() => setDebugOpen(false)}
            />
          )}
          {open ? (
            <Canvas nodes={editor.nodes} edges={editor.edges} dispatch={dispatch} components={components} onNodeOpen={(id) => inspect(id, 'properties')} onConnectRefused={(r) => toast('info', r)} />
          ) : (
            <div className="lf-welcome">
              <div className="lf-welcome-card">
                <h1>Design a flow</h1>
                <p>Build event flows that call AWS Lambda: a Feeder sends messages, a LambdaConnector invokes your function, a Display shows what comes out — and what fails.</p>
                <NewFlowForm existing={(flows ?? []).map((f) => f.id)} onCreate={createFlow} />
                {flows && flows.length > 0 && (
                  <>
                    <h2>Or open one</h2>
                    <ul className="lf-welcome-list">
                      {flows.map((f) => (
                        <li key={f.id}>
                          <button type="button" className="lf-link" onClick={() => openFlow(f.id)}>
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
          )}
        </main>

        {inspected && open && !paletteDrag && (
          <Inspector
            ref={nameRef}
            node={inspected}
            descriptor={byType.get(inspected.data.type)}
            flowId={editor.meta.id}
            saved={onServer && editor.serverNodes.includes(inspected.id)}
            tab={tab}
            onTab={setTab}
            issues={editor.issues.byNode[inspected.id] ?? []}
            runtime={runtime}
            onRename={(name) => dispatch({ type: 'rename', nodeId: inspected.id, name })}
            onConfig={(config) => dispatch({ type: 'setConfig', nodeId: inspected.id, config })}
            onClearSecret={(pointer, clear) => dispatch({ type: 'clearSecret', nodeId: inspected.id, pointer, clear })}
            onClose={() => dispatch({ type: 'select', nodeIds: [] })}
            onStart={() => void deploy()}
            onClearMessages={() => {
              rdispatch({ type: 'clear', node: inspected.id });
              if (onServer && editor.serverNodes.includes(inspected.id)) api.clearMessages(editor.meta.id, inspected.id).catch((e) => toast('error', `Not cleared: ${describeError(e)}`));
            }}
          />
        )}

        <div className="lf-toasts" aria-live="polite" role="status">
          {toasts.map((t) => (
            <div key={t.id} className={`lf-toast lf-toast--${t.tone}`}>
              {t.text}
              <button type="button" className="lf-icon-btn" aria-label="Dismiss" onClick={() => setToasts((x) => x.filter((y) => y.id !== t.id))}>
                ✕
              </button>
            </div>
          ))}
        </div>

        {dialog?.kind === 'conflict' && (
          <Dialog
            title="Someone else saved this flow"
            tone="warning"
            onCancel={() => setDialog(null)}
            actions={
              <>
                <button
                  type="button"
                  className="lf-btn"
                  onClick={() => {
                    setDialog(null);
                    void loadFlow(editor.meta.id);
                  }}
                  data-testid="conflict-reload"
                >
                  Reload theirs (discard mine)
                </button>
                <button
                  type="button"
                  className="lf-btn lf-btn--danger"
                  onClick={() => {
                    setDialog(null);
                    void save({ overwrite: true });
                  }}
                  data-testid="conflict-overwrite"
                >
                  Overwrite with mine
                </button>
                <button type="button" className="lf-btn" onClick={() => setDialog(null)}>
                  Cancel
                </button>
              </>
            }
          >
            <p>
              “{editor.meta.name || editor.meta.id}” changed on the server since you opened it (HTTP {dialog.status}). Your changes are not saved yet.
            </p>
            <p>Reload to see the other version, or overwrite it with yours. Export first if you want to keep a copy of yours.</p>
          </Dialog>
        )}
        {dialog?.kind === 'deleteFlow' && (
          <Dialog
            title={`Delete “${dialog.id}”?`}
            tone="danger"
            onCancel={() => setDialog(null)}
            actions={
              <>
                <button type="button" className="lf-btn" onClick={() => setDialog(null)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="lf-btn lf-btn--danger"
                  onClick={() => {
                    const id = dialog.id;
                    setDialog(null);
                    void deleteFlow(id);
                  }}
                  data-testid="confirm-delete"
                >
                  Delete flow
                </button>
              </>
            }
          >
            <p>The flow is stopped if it runs, and its file is removed. This cannot be undone.</p>
            {currentSummary?.id === dialog.id && dirty && <p>Your unsaved changes to it are lost too.</p>}
          </Dialog>
        )}
        {dialog?.kind === 'discard' && (
          <Dialog
            title="Discard unsaved changes?"
            tone="warning"
            onCancel={() => setDialog(null)}
            actions={
              <>
                <button type="button" className="lf-btn" onClick={() => setDialog(null)}>
                  Keep editing
                </button>
                <button
                  type="button"
                  className="lf-btn lf-btn--danger"
                  onClick={() => {
                    const a = dialog.action;
                    setDialog(null);
                    a();
                  }}
                >
                  Discard and {dialog.what}
                </button>
              </>
            }
          >
            <p>“{editor.meta.name || editor.meta.id}” has changes that are not saved.</p>
          </Dialog>
        )}
        {dialog?.kind === 'importOverwrite' && (
          <Dialog
            title={`A flow “${dialog.flow.id}” already exists`}
            tone="warning"
            onCancel={() => setDialog(null)}
            actions={
              <>
                <button type="button" className="lf-btn" onClick={() => setDialog(null)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="lf-btn lf-btn--danger"
                  onClick={() => {
                    const flow = dialog.flow;
                    setDialog(null);
                    dispatch({ type: 'load', flow, saved: false });
                    rdispatch({ type: 'reset' });
                    window.location.hash = `#/flow/${encodeURIComponent(flow.id)}`;
                    fitSoon();
                  }}
                >
                  Import; saving will replace it
                </button>
              </>
            }
          >
            <p>The imported flow opens unsaved. When you save it, it replaces the stored “{dialog.flow.id}”.</p>
          </Dialog>
        )}
        {dialog?.kind === 'token' && <TokenDialog onDone={() => window.location.reload()} onCancel={() => setDialog(null)} />}
      </div>
    </DesignerContext.Provider>
  );
}
