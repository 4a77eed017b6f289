// What the designer asks the server to do with the open flow: open, save, deploy, stop, send,
// create and delete — each with its busy state, its toast and its dialog (conflict, discard).
import { useCallback, useRef, useState, type Dispatch, type MutableRefObject } from 'react';
import { ApiError, api, describeError } from '../api/client';
import type { ComponentDescriptor, FlowDocument } from '../api/types';
import type { InspectorTab } from '../context';
import { isDirty, toFlowDocument, type EditorAction, type EditorState } from '../lib/editor';
import { issueCount, issuesFromDetails } from '../lib/issues';
import { issueHeadline } from '../lib/messages';
import type { RuntimeAction, RuntimeState } from '../lib/runtime';
import type { DialogState } from '../components/AppDialogs';
import type { ToastFn } from './useToasts';

export type Busy = null | 'saving' | 'starting' | 'stopping' | 'loading' | 'deploying';

export interface FlowActionsDeps {
  editor: EditorState;
  dispatch: Dispatch<EditorAction>;
  rdispatch: Dispatch<RuntimeAction>;
  runtimeRef: MutableRefObject<RuntimeState>;
  byType: ReadonlyMap<string, ComponentDescriptor>;
  toast: ToastFn;
  /** Sees every failure first (a 401 asks for a token). */
  onAuth: (e: unknown) => void;
  openDialog: (d: DialogState) => void;
  setTab: (t: InspectorTab) => void;
  refreshFlows: () => Promise<void>;
  refreshDeployed: () => Promise<void>;
  /** Fits the canvas to the flow just opened. */
  fitSoon: () => void;
}

export function flowHash(id: string): string {
  return `#/flow/${encodeURIComponent(id)}`;
}

export function flowIdFromHash(): string | null {
  const m = /^#\/flow\/([^/?#]+)/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

export function useFlowActions(d: FlowActionsDeps) {
  const { editor, dispatch, rdispatch, runtimeRef, byType, toast, onAuth, openDialog, setTab, refreshFlows, refreshDeployed, fitSoon } = d;
  const [busy, setBusy] = useState<Busy>(null);
  const open = editor.meta.id !== '';
  const onServer = editor.savedFingerprint !== '' || editor.rev !== undefined;
  const dirty = open && isDirty(editor);
  const flowId = editor.meta.id;
  const idRef = useRef(flowId);
  idRef.current = flowId;

  const loadFlow = useCallback(
    async (id: string) => {
      setBusy('loading');
      try {
        const flow = await api.getFlow(id);
        dispatch({ type: 'load', flow, saved: true });
        rdispatch({ type: 'reset' });
        setTab('properties');
        if (flowIdFromHash() !== id) window.location.hash = flowHash(id);
        fitSoon();
      } catch (e) {
        onAuth(e);
        toast('error', e instanceof ApiError && e.status === 404 ? `There is no flow “${id}”.` : `Could not open “${id}”: ${describeError(e)}`);
      } finally {
        setBusy(null);
      }
    },
    [dispatch, rdispatch, setTab, fitSoon, toast, onAuth],
  );

  /** Runs `action` at once, or after the user agrees to lose unsaved changes. */
  const guard = useCallback(
    (what: string, action: () => void) => {
      if (dirty) openDialog({ kind: 'discard', action, what });
      else action();
    },
    [dirty, openDialog],
  );

  const applyIssues = useCallback(
    (e: ApiError, doc: FlowDocument, what: string) => {
      const issues = issuesFromDetails(e.details, doc);
      dispatch({ type: 'setIssues', issues });
      const n = issueCount(issues);
      toast('error', `${what}: ${issueHeadline(issues, doc, byType) ?? e.message}${n > 1 ? ` (and ${n - 1} more problem${n === 2 ? '' : 's'} marked on the canvas)` : n === 1 ? ' (marked on the canvas)' : ''}`);
      const first = Object.keys(issues.byNode)[0];
      const firstRoute = Object.keys(issues.byEdge)[0];
      if (first) {
        dispatch({ type: 'select', nodeIds: [first] });
        setTab('properties');
      } else if (firstRoute) {
        // a route's problem (its partition key, say): open its sheet
        dispatch({ type: 'select', nodeIds: [], edgeIds: [firstRoute] });
      }
    },
    [dispatch, toast, byType, setTab],
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
        onAuth(e);
        if (e instanceof ApiError && e.isConflict) openDialog({ kind: 'conflict', status: e.status });
        else if (e instanceof ApiError && e.status === 422) applyIssues(e, doc, 'Not saved');
        else toast('error', `Not saved: ${describeError(e)}`);
        return false;
      } finally {
        setBusy(null);
      }
    },
    [open, editor, dispatch, toast, refreshFlows, applyIssues, onAuth, openDialog],
  );

  const stop = useCallback(async () => {
    setBusy('stopping');
    try {
      const asOf = runtimeRef.current.seq;
      const status = await api.stop(flowId);
      rdispatch({ type: 'status', status, asOf });
      void refreshFlows();
    } catch (e) {
      onAuth(e);
      toast('error', `Not stopped: ${describeError(e)}`);
    } finally {
      setBusy(null);
    }
  }, [flowId, runtimeRef, rdispatch, toast, refreshFlows, onAuth]);

  /** The Feeder card's one-click Send: its default message, once (Node-RED's inject button). */
  const sendDefault = useCallback(
    async (nodeId: string) => {
      try {
        await api.send(flowId, nodeId, { count: 1 });
      } catch (e) {
        onAuth(e);
        toast('error', `Not sent: ${describeError(e)}`);
      }
    },
    [flowId, toast, onAuth],
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
      const answer = await api.deploy(flowId);
      rdispatch({ type: 'status', status: answer.status, asOf });
      await refreshDeployed();
      toast(
        'ok',
        answer.workers
          ? `Deployed to the workers (revision ${answer.workers.revision}): workers following this flow (lambdaflow worker --flow-id ${flowId}) run it.`
          : answer.unchanged
            ? 'Deployed: the running flow is already this version.'
            : answer.redeployed
              ? answer.redeployed.length === 0
                ? 'Deployed: nothing that runs changed.'
                : `Deployed: ${answer.redeployed
                    .map((id) => editor.nodes.find((n) => n.id === id)?.data.name || id)
                    .join(', ')} took the new config; the rest ran on.`
              : answer.restarted
                ? 'Deployed: the flow restarted with your changes.'
                : 'Deployed: the flow runs.',
      );
      void refreshFlows();
    } catch (e) {
      onAuth(e);
      if (e instanceof ApiError && e.status === 422) applyIssues(e, toFlowDocument(editor), 'Not deployed');
      else toast('error', `Not deployed: ${describeError(e)}`);
    } finally {
      setBusy(null);
    }
  }, [open, dirty, onServer, save, flowId, editor, runtimeRef, rdispatch, toast, refreshFlows, applyIssues, onAuth, refreshDeployed]);

  /** Opens `flow` unsaved in the editor (a new or an imported flow). */
  const openUnsaved = useCallback(
    (flow: FlowDocument) => {
      dispatch({ type: 'load', flow, saved: false });
      rdispatch({ type: 'reset' });
      window.location.hash = flowHash(flow.id);
    },
    [dispatch, rdispatch],
  );

  const createFlow = useCallback(
    (id: string, name: string) => {
      guard('create a new flow', () => {
        const flow: FlowDocument = { id, name, nodes: [], edges: [] };
        openUnsaved(flow);
        // put it on the server right away so that it shows in the list; stays local if refused
        api
          .saveFlow(flow)
          .then(({ flow: saved }) => {
            if (idRef.current === id) dispatch({ type: 'saved', flow: saved });
            void refreshFlows();
          })
          .catch(() => undefined);
      });
    },
    [guard, openUnsaved, dispatch, refreshFlows],
  );

  const openFlow = useCallback((id: string) => guard(`open “${id}”`, () => void loadFlow(id)), [guard, loadFlow]);

  const deleteFlow = useCallback(
    async (id: string) => {
      try {
        await api.deleteFlow(id);
        toast('info', `Deleted “${id}”.`);
        if (id === flowId) {
          dispatch({ type: 'load', flow: { id: '', name: '', nodes: [], edges: [] }, saved: false });
          rdispatch({ type: 'reset' });
          history.replaceState(null, '', window.location.pathname + window.location.search);
        }
        void refreshFlows();
      } catch (e) {
        onAuth(e);
        toast('error', `Not deleted: ${describeError(e)}`);
      }
    },
    [flowId, dispatch, rdispatch, toast, refreshFlows, onAuth],
  );

  return { busy, open, onServer, dirty, loadFlow, guard, save, stop, deploy, sendDefault, openUnsaved, createFlow, openFlow, deleteFlow };
}

export type FlowActions = ReturnType<typeof useFlowActions>;
