// What the property-sheet widgets receive through rjsf's `formContext`.
import type { ComponentAction, JsonObject } from '../../api/types';

export interface SheetContext {
  flowId?: string;
  nodeId?: string;
  /** The component's type and actions: a field's picker calls the action that fills it. */
  componentType: string;
  actions: ComponentAction[];
  /** The node's whole current config (an action is asked with it). */
  config: JsonObject;
  secretsSet: string[];
  secretsClear: string[];
  onClearSecret: (pointer: string, clear: boolean) => void;
}

export const ID_PREFIX = 'cfg';
export const ID_SEPARATOR = '__';

/** The config pointer of a widget from its rjsf id: `cfg__connection__secretKey` → `/connection/secretKey`. */
export function pointerFromWidgetId(id: string): string {
  const parts = id.split(ID_SEPARATOR);
  if (parts[0] === ID_PREFIX) parts.shift();
  return parts.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function widgetIdFromPointer(pointer: string): string {
  const tokens = pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [ID_PREFIX, ...tokens].join(ID_SEPARATOR);
}
