// The picker of a config field that a component action lists values for (the descriptor's
// `actions`, found by the field's pointer): a combobox asking the server with the node's config.
import type { WidgetProps } from '@rjsf/utils';
import { useCallback } from 'react';
import { api } from '../../api/client';
import type { ActionRequest, JsonObject } from '../../api/types';
import { actionFailure, actionNouns, optionsFromAnswer } from '../../lib/actionOptions';
import { actionForField } from '../../lib/capabilities';
import { removeAt } from '../../lib/pointer';
import { ComboWidget } from './ComboWidget';
import { pointerFromWidgetId, type SheetContext } from './sheetContext';

const EMPTY: SheetContext = { componentType: '', actions: [], config: {}, secretsSet: [], secretsClear: [], onClearSecret: () => undefined };

export function ActionPickerWidget(props: WidgetProps) {
  const ctx = (props.registry.formContext ?? EMPTY) as SheetContext;
  const pointer = pointerFromWidgetId(props.id);
  const action = actionForField(ctx, pointer);
  // the listing depends on the rest of the config, not on what is typed in this field
  const depsKey = JSON.stringify(removeAt(ctx.config, pointer));
  const rootSchema = props.registry.rootSchema as JsonObject;
  const load = useCallback(async () => {
    if (!action) return [];
    const body: ActionRequest = { config: ctx.config };
    // flow and node go together: they let the server use the secrets it stores for this node
    if (ctx.flowId && ctx.nodeId) {
      body.flow = ctx.flowId;
      body.node = ctx.nodeId;
    }
    return optionsFromAnswer(await api.componentAction(ctx.componentType, action.name, body));
    // (keyed on depsKey: the config object is rebuilt on every render)
  }, [depsKey, action?.name, ctx.componentType, ctx.flowId, ctx.nodeId]);
  if (!action) {
    const Text = props.registry.widgets.TextWidget!;
    return <Text {...props} />;
  }
  const { noun, nouns } = actionNouns(action);
  return <ComboWidget widget={props} load={load} depsKey={depsKey} noun={noun} nouns={nouns} describeFailure={(e) => actionFailure(e, action, rootSchema)} />;
}
