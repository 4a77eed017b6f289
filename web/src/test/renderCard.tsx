// Renders one node card as the canvas does: inside React Flow's provider and a designer context
// whose parts a test does not name are empty (no issues, nothing changed or deployed, no workers).
import { render } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import type { FlowNode } from '../api/types';
import { NodeCard } from '../components/NodeCard';
import { DesignerContext, type DesignerContextValue, emptyDesigner } from '../context';
import { flowNodeToRf } from '../lib/model';

/** The card of `node`, with `ctx` over an empty designer context. */
export function renderCard(node: FlowNode, ctx: Partial<DesignerContextValue>) {
  const value: DesignerContextValue = { ...emptyDesigner(), ...ctx };
  const n = flowNodeToRf(node);
  const props = { id: node.id, data: n.data, selected: false, type: n.type, dragging: false, zIndex: 0, isConnectable: true, positionAbsoluteX: 0, positionAbsoluteY: 0, selectable: true, deletable: true, draggable: true };
  return render(
    <ReactFlowProvider>
      <DesignerContext.Provider value={value}>
        <NodeCard {...(props as unknown as Parameters<typeof NodeCard>[0])} />
      </DesignerContext.Provider>
    </ReactFlowProvider>,
  );
}
