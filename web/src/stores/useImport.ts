// Import of a flow JSON file: checked (JSON, a flow, a usable id), then opened unsaved — after
// asking when a stored flow has its id, or when the open flow has unsaved changes.
import { useCallback } from 'react';
import { describeError } from '../api/client';
import type { FlowDocument, FlowSummary } from '../api/types';
import type { DialogState } from '../components/AppDialogs';
import { flowIdProblem } from '../lib/ids';
import { parseFlowDocument } from '../lib/model';
import type { ToastFn } from './useToasts';

/** Why the file's text is not an importable flow, or the flow. */
export function readFlowFile(name: string, text: string): { flow: FlowDocument } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { problem: `“${name}” is not JSON: ${describeError(e)}` };
  }
  const parsed = parseFlowDocument(value);
  if ('problem' in parsed) return { problem: `“${name}” is not a flow: ${parsed.problem}` };
  const idProblem = flowIdProblem(parsed.flow.id);
  if (idProblem) return { problem: `“${name}” has an unusable flow id “${parsed.flow.id}”: ${idProblem}` };
  return { flow: parsed.flow };
}

interface ImportDeps {
  flows: FlowSummary[] | null;
  guard: (what: string, action: () => void) => void;
  openDialog: (d: DialogState) => void;
  /** Opens the flow unsaved (and fits the canvas to it). */
  openImported: (flow: FlowDocument) => void;
  toast: ToastFn;
}

export function useImport({ flows, guard, openDialog, openImported, toast }: ImportDeps): (file: File) => Promise<void> {
  return useCallback(
    async (file: File) => {
      const read = readFlowFile(file.name, await file.text());
      if ('problem' in read) {
        toast('error', read.problem);
        return;
      }
      const { flow } = read;
      if ((flows ?? []).some((f) => f.id === flow.id)) openDialog({ kind: 'importOverwrite', flow });
      else
        guard('import a flow', () => {
          openImported(flow);
          toast('info', `Imported “${flow.id}”. Save to store it.`);
        });
    },
    [flows, guard, openDialog, openImported, toast],
  );
}
