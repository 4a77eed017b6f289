// What node cards and panels read without prop-drilling through React Flow.
import { createContext, useContext } from 'react';
import type { ComponentDescriptor } from './api/types';
import type { Issues } from './lib/issues';
import type { RuntimeState } from './lib/runtime';
import { noIssues } from './lib/issues';
import { initialRuntime } from './lib/runtime';

export interface DesignerContextValue {
  components: ReadonlyMap<string, ComponentDescriptor>;
  runtime: RuntimeState;
  issues: Issues;
  /** Opens the inspector on a node (select it, show a tab). */
  inspect: (nodeId: string, tab?: InspectorTab) => void;
  /** Nodes whose running version differs from the open one (until deployed). */
  changed: ReadonlySet<string>;
  /** Nodes the running (or last) run was deployed with. */
  deployed: ReadonlySet<string>;
  /** A Feeder's one-click Send of its default message. */
  sendDefault: (nodeId: string) => void;
  /** Per node, how many JetStream workers run it now (empty without a broker). */
  workers: ReadonlyMap<string, number>;
}

export type InspectorTab = 'properties' | 'run';

/** A designer with nothing in it: no components, no run, no issues, nothing changed or deployed. */
export function emptyDesigner(): DesignerContextValue {
  return {
    components: new Map(),
    runtime: initialRuntime(),
    issues: noIssues(),
    inspect: () => undefined,
    changed: new Set(),
    deployed: new Set(),
    sendDefault: () => undefined,
    workers: new Map(),
  };
}

export const DesignerContext = createContext<DesignerContextValue>(emptyDesigner());

export function useDesigner(): DesignerContextValue {
  return useContext(DesignerContext);
}
