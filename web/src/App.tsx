// The designer: flows on the left with the palette, the canvas in the middle, the inspector on
// the right, and the run controls on top. State lives in the editor and runtime reducers and in
// the small stores of stores/; this file wires them to the components.
import { useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { ApiError, api, describeError } from './api/client';
import type { FlowDocument } from './api/types';
import { AppDialogs, type DialogState } from './components/AppDialogs';
import { Canvas } from './components/Canvas';
import { DebugPanel } from './components/DebugPanel';
import { EdgeSheet } from './components/EdgeSheet';
import { FlowsPanel } from './components/FlowsPanel';
import { Inspector } from './components/Inspector';
import { KeysHelp } from './components/KeysHelp';
import { Palette } from './components/Palette';
import { Toasts } from './components/Toasts';
import { TopBar } from './components/TopBar';
import { Welcome } from './components/Welcome';
import { WorkersPanel } from './components/WorkersPanel';
import { DesignerContext, type DesignerContextValue, type InspectorTab } from './context';
import { capabilitiesOf, opensOnRunTab } from './lib/capabilities';
import { deployDiff } from './lib/deploy';
import { currentSnapshot, editorReducer, emptyEditor, toFlowDocument } from './lib/editor';
import { downloadJson, exportSelection } from './lib/exportFlow';
import { canRedo, canUndo } from './lib/history';
import { isJetStream } from './lib/model';
import { initialRuntime, runtimeReducer } from './lib/runtime';
import { useCatalog } from './stores/useCatalog';
import { useDebugLog } from './stores/useDebugLog';
import { useDeployed } from './stores/useDeployed';
import { useFlowActions } from './stores/useFlowActions';
import { useHashRoute } from './stores/useHashRoute';
import { useImport } from './stores/useImport';
import { useLiveEvents } from './stores/useLiveEvents';
import { usePaletteDrag } from './stores/usePaletteDrag';
import { useShortcuts } from './stores/useShortcuts';
import { useToasts } from './stores/useToasts';
import { useWorkers } from './stores/useWorkers';

export function App() {
  const rf = useReactFlow();
  const { toasts, toast, dismiss } = useToasts();
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const closeDialog = useCallback(() => setDialog(null), []);
  const onAuth = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) setDialog({ kind: 'token' });
  }, []);
  const { components, byType, componentsError, flows, flowsError, refreshFlows } = useCatalog(onAuth);
  const [editor, dispatch] = useReducer(editorReducer, undefined, emptyEditor);
  const editorRef = useRef(editor);
  editorRef.current = editor;
  const [runtime, rdispatch] = useReducer(runtimeReducer, undefined, initialRuntime);
  const runtimeRef = useRef(runtime);
  runtimeRef.current = runtime;
  const [tab, setTab] = useState<InspectorTab>('properties');
  const [sidebarOpen, setSidebarOpen] = useState(() => typeof window === 'undefined' || window.innerWidth > 860);
  const nameRef = useRef<HTMLInputElement>(null);
  // while a component is dragged from the palette the sheet steps aside: every drop lands on the canvas
  const paletteDrag = usePaletteDrag();
  const flowId = editor.meta.id;
  const { deployed, refresh: refreshDeployed, forget: forgetDeployed } = useDeployed(flowId);
  const debug = useDebugLog(flowId);

  const fitSoon = useCallback(() => {
    window.setTimeout(() => void rf.fitView({ maxZoom: 1.1, padding: 0.2, duration: 200 }), 60);
  }, [rf]);

  const actions = useFlowActions({ editor, dispatch, rdispatch, runtimeRef, byType, toast, onAuth, openDialog: setDialog, setTab, refreshFlows, refreshDeployed, fitSoon });
  const { open, onServer, dirty, save, deploy, loadFlow, openUnsaved } = actions;
  const running = runtime.flowState === 'running';
  const selectedNodes = editor.nodes.filter((n) => n.selected);
  const inspected = selectedNodes.length === 1 ? selectedNodes[0]! : null;
  // a wire selected alone opens its route sheet in the same side panel
  const selectedEdges = editor.edges.filter((e) => e.selected);
  const inspectedEdge = selectedNodes.length === 0 && selectedEdges.length === 1 ? selectedEdges[0]! : null;
  const hasJetStream = editor.edges.some(isJetStream);
  const workers = useWorkers({ flowId, enabled: open && onServer && hasJetStream });

  useHashRoute(flowId, (id) => void loadFlow(id));
  useLiveEvents({ flowId, onServer, components: byType, nodes: editor.nodes, serverNodes: editor.serverNodes, runtimeRef, rdispatch, onFlowChange: refreshFlows, refreshDeployed, onDebug: debug.onEvent });
  useEffect(() => forgetDeployed(), [flowId, forgetDeployed]);

  const openImported = useCallback(
    (flow: FlowDocument) => {
      openUnsaved(flow);
      fitSoon();
    },
    [openUnsaved, fitSoon],
  );
  const importFile = useImport({ flows, guard: actions.guard, openDialog: setDialog, openImported, toast });
  const exportFlow = () => {
    const picked = editor.nodes.filter((n) => n.selected).map((n) => n.id);
    downloadJson(exportSelection(toFlowDocument(editor), picked, byType));
  };

  const addAtCentre = useCallback(
    (type: string) => {
      const desc = byType.get(type);
      if (!desc || !open) return;
      const r = document.querySelector('.lf-canvas')?.getBoundingClientRect();
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
    setTab(running && opensOnRunTab(capabilitiesOf(byType.get(inspectedType ?? ''))) ? 'run' : 'properties');
    // (deliberately once, on a new inspected node)
  }, [inspectedId]);

  useShortcuts({
    editorRef,
    dispatch,
    open,
    dialogOpen: dialog !== null,
    save: () => void save(),
    rename: () => {
      setTab('properties');
      window.setTimeout(() => nameRef.current?.select(), 0);
    },
    toast,
  });

  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (dirty) e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  const diff = useMemo(() => deployDiff(toFlowDocument(editor), running ? deployed : null), [editor, running, deployed]);
  const deployedIds = useMemo(() => new Set((deployed?.nodes ?? []).map((n) => n.id)), [deployed]);
  const sendDefault = actions.sendDefault;
  const ctx: DesignerContextValue = useMemo(
    () => ({ components: byType, runtime, issues: editor.issues, inspect, changed: diff.changed, deployed: deployedIds, sendDefault, workers: workers.byNode }),
    [byType, runtime, editor.issues, inspect, diff.changed, deployedIds, sendDefault, workers.byNode],
  );
  const flowTitle = editor.meta.name || editor.meta.id;

  return (
    <DesignerContext.Provider value={ctx}>
      <div className={`lf-app${sidebarOpen ? '' : ' sidebar-closed'}${(inspected || inspectedEdge) && !paletteDrag ? ' has-inspector' : ''}`}>
        <TopBar
          sidebarOpen={sidebarOpen}
          onToggleSidebar={() => setSidebarOpen((v) => !v)}
          flow={open ? { id: flowId, name: editor.meta.name, dirty, onServer } : null}
          onRename={(name) => dispatch({ type: 'setMeta', name })}
          canUndo={canUndo(editor.history)}
          canRedo={canRedo(editor.history)}
          onUndo={() => dispatch({ type: 'undo' })}
          onRedo={() => dispatch({ type: 'redo' })}
          busy={actions.busy}
          onSave={() => void save()}
          emptyFlow={currentSnapshot(editor).nodes.length === 0}
          onDeploy={() => void deploy()}
          pending={diff.changed.size + diff.removed.length}
          running={running}
          flowState={runtime.flowState}
          connected={runtime.connected}
          onStop={() => void actions.stop()}
          debugOpen={debug.open}
          debugCount={debug.entries.length}
          onToggleDebug={() => debug.setOpen((v) => !v)}
          onImport={(f) => void importFile(f)}
          onExport={exportFlow}
        />

        <nav className="lf-sidebar" aria-label="Flows and components">
          <FlowsPanel flows={flows} currentId={open ? flowId : null} error={flowsError} onOpen={actions.openFlow} onCreate={actions.createFlow} onDelete={(id) => setDialog({ kind: 'deleteFlow', id })} />
          <Palette components={components} onAdd={addAtCentre} disabled={!open} error={componentsError} />
          <KeysHelp />
        </nav>

        <main className="lf-main">
          {editor.issues.general.length > 0 && (
            <div className="lf-callout lf-callout--error lf-banner" role="alert">
              {editor.issues.general.map((g, i) => (
                <div key={i}>{g}</div>
              ))}
            </div>
          )}
          {open && debug.open && (
            <DebugPanel entries={debug.entries} names={new Map(editor.nodes.map((n) => [n.id, n.data.name]))} onSelect={(id) => inspect(id)} onClear={debug.clear} onClose={() => debug.setOpen(false)} />
          )}
          {open ? (
            <Canvas nodes={editor.nodes} edges={editor.edges} dispatch={dispatch} components={components} onNodeOpen={(id) => inspect(id, 'properties')} onConnectRefused={(r) => toast('info', r)} />
          ) : (
            <Welcome flows={flows} onCreate={actions.createFlow} onOpen={actions.openFlow} />
          )}
          {open && onServer && hasJetStream && <WorkersPanel state={workers} nodes={editor.nodes.map((n) => ({ id: n.id, name: n.data.name }))} />}
        </main>

        {inspected && open && !paletteDrag && (
          <Inspector
            ref={nameRef}
            node={inspected}
            descriptor={byType.get(inspected.data.type)}
            flowId={flowId}
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
              if (onServer && editor.serverNodes.includes(inspected.id)) api.clearMessages(flowId, inspected.id).catch((e) => toast('error', `Not cleared: ${describeError(e)}`));
            }}
          />
        )}

        {inspectedEdge && open && !paletteDrag && (
          <EdgeSheet
            edge={inspectedEdge}
            names={new Map(editor.nodes.map((n) => [n.id, n.data.name]))}
            issues={editor.issues.byEdge[inspectedEdge.id] ?? []}
            onChange={(change) => dispatch({ type: 'setEdge', edgeId: inspectedEdge.id, ...change })}
            onClose={() => dispatch({ type: 'select', nodeIds: [] })}
          />
        )}

        <Toasts toasts={toasts} onDismiss={dismiss} />
        <AppDialogs
          dialog={dialog}
          close={closeDialog}
          flowTitle={flowTitle}
          openFlowId={flowId}
          dirty={dirty}
          reload={() => void loadFlow(flowId)}
          overwrite={() => void save({ overwrite: true })}
          deleteFlow={(id) => void actions.deleteFlow(id)}
          importFlow={openImported}
        />
      </div>
    </DesignerContext.Provider>
  );
}
