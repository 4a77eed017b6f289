// The designer's questions: a save conflict, deleting a flow, discarding unsaved changes,
// importing over a stored flow, and the API token.
import type { FlowDocument } from '../api/types';
import { ConfirmDialog } from './ConfirmDialog';
import { TokenDialog } from './TokenDialog';

export type DialogState =
  | { kind: 'conflict'; status: number }
  | { kind: 'deleteFlow'; id: string }
  | { kind: 'discard'; action: () => void; what: string }
  | { kind: 'importOverwrite'; flow: FlowDocument }
  | { kind: 'token' };

interface AppDialogsProps {
  dialog: DialogState | null;
  close: () => void;
  /** The open flow's name (or id) and whether it has unsaved changes. */
  flowTitle: string;
  openFlowId: string;
  dirty: boolean;
  reload: () => void;
  overwrite: () => void;
  deleteFlow: (id: string) => void;
  importFlow: (flow: FlowDocument) => void;
}

export function AppDialogs({ dialog, close, flowTitle, openFlowId, dirty, reload, overwrite, deleteFlow, importFlow }: AppDialogsProps) {
  if (!dialog) return null;
  /** Closes the dialog, then does what was chosen. */
  const then = (f: () => void) => () => {
    close();
    f();
  };
  switch (dialog.kind) {
    case 'conflict':
      return (
        <ConfirmDialog
          title="Someone else saved this flow"
          tone="warning"
          onCancel={close}
          cancelLast
          choices={[
            { label: 'Reload theirs (discard mine)', onChoose: then(reload), testId: 'conflict-reload' },
            { label: 'Overwrite with mine', onChoose: then(overwrite), danger: true, testId: 'conflict-overwrite' },
          ]}
        >
          <p>
            “{flowTitle}” changed on the server since you opened it (HTTP {dialog.status}). Your changes are not saved yet.
          </p>
          <p>Reload to see the other version, or overwrite it with yours. Export first if you want to keep a copy of yours.</p>
        </ConfirmDialog>
      );
    case 'deleteFlow':
      return (
        <ConfirmDialog title={`Delete “${dialog.id}”?`} tone="danger" onCancel={close} choices={[{ label: 'Delete flow', onChoose: then(() => deleteFlow(dialog.id)), danger: true, testId: 'confirm-delete' }]}>
          <p>The flow is stopped if it runs, and its file is removed. This cannot be undone.</p>
          {openFlowId === dialog.id && dirty && <p>Your unsaved changes to it are lost too.</p>}
        </ConfirmDialog>
      );
    case 'discard':
      return (
        <ConfirmDialog title="Discard unsaved changes?" tone="warning" onCancel={close} cancelLabel="Keep editing" choices={[{ label: `Discard and ${dialog.what}`, onChoose: then(dialog.action), danger: true }]}>
          <p>“{flowTitle}” has changes that are not saved.</p>
        </ConfirmDialog>
      );
    case 'importOverwrite':
      return (
        <ConfirmDialog
          title={`A flow “${dialog.flow.id}” already exists`}
          tone="warning"
          onCancel={close}
          choices={[{ label: 'Import; saving will replace it', onChoose: then(() => importFlow(dialog.flow)), danger: true }]}
        >
          <p>The imported flow opens unsaved. When you save it, it replaces the stored “{dialog.flow.id}”.</p>
        </ConfirmDialog>
      );
    case 'token':
      return <TokenDialog onDone={() => window.location.reload()} onCancel={close} />;
  }
}
