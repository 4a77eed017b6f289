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
}

export type InspectorTab = 'properties' | 'run';

export const DesignerContext = createContext<DesignerContextValue>({
  components: new Map(),
  runtime: initialRuntime(),
  issues: noIssues(),
  inspect: () => undefined,
});

export function useDesigner(): DesignerContextValue {
  return useContext(DesignerContext);
}
