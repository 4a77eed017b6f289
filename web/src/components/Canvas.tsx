// The flow canvas: React Flow with palette drop, port-checked wiring, delete, minimap and zoom.
import {
  Background,
  BackgroundVariant,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  type FinalConnectionState,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type OnBeforeDelete,
} from '@xyflow/react';
import { useCallback, useMemo, type DragEvent } from 'react';
import type { ComponentDescriptor } from '../api/types';
import { useDesigner } from '../context';
import { capabilitiesOf, roleColour, roleOf } from '../lib/capabilities';
import { connectionProblem, refusalReason, type HandleEnd } from '../lib/connection';
import type { EditorAction } from '../lib/editor';
import { isJetStream, NODE_TYPE, type DesignerEdge, type DesignerNode } from '../lib/model';
import { NodeCard } from './NodeCard';
import { RoutedEdge } from './RoutedEdge';

export const DND_MIME = 'application/x-lambdaflow-component';

const nodeTypes = { [NODE_TYPE]: NodeCard };
// wires route around cards instead of crossing them
const edgeTypes = { routed: RoutedEdge };
const arrow = { type: MarkerType.ArrowClosed, width: 18, height: 18 };
// JetStream routes: the arrowhead takes the route's colour (a literal: it names the marker's id)
const jetStreamArrow = { ...arrow, color: '#8b5cf6' };

interface CanvasProps {
  nodes: DesignerNode[];
  edges: DesignerEdge[];
  dispatch: (a: EditorAction) => void;
  components: ComponentDescriptor[];
  onNodeOpen: (nodeId: string) => void;
  onConnectRefused: (reason: string) => void;
}

export function Canvas({ nodes, edges, dispatch, components, onNodeOpen, onConnectRefused }: CanvasProps) {
  const rf = useReactFlow<DesignerNode, DesignerEdge>();
  const { components: byType, issues } = useDesigner();

  const typeOf = useCallback((id: string) => nodes.find((n) => n.id === id)?.data.type, [nodes]);

  const isValidConnection = useCallback(
    (c: DesignerEdge | Connection) => connectionProblem(c, typeOf, byType, edges) === null,
    [typeOf, byType, edges],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connectionProblem(c, typeOf, byType, edges);
      if (problem) onConnectRefused(problem);
      else dispatch({ type: 'connect', connection: c });
    },
    [typeOf, byType, edges, dispatch, onConnectRefused],
  );

  // A wire dropped on a port that refuses it says why (React Flow drops it silently).
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromHandle) return;
      const from: HandleEnd = { node: state.fromHandle.nodeId, port: state.fromHandle.id ?? '', kind: state.fromHandle.type };
      let to: HandleEnd | null = state.toHandle ? { node: state.toHandle.nodeId, port: state.toHandle.id ?? '', kind: state.toHandle.type } : null;
      if (!to) {
        // not offered as a target (same kind of port): find the handle under the pointer
        const point = 'changedTouches' in event ? event.changedTouches[0] : event;
        const el = point ? document.elementFromPoint(point.clientX, point.clientY)?.closest('.react-flow__handle') : null;
        const node = el?.getAttribute('data-nodeid');
        const port = el?.getAttribute('data-handleid');
        if (!el || !node || !port) return;
        to = { node, port, kind: el.classList.contains('source') ? 'source' : 'target' };
      }
      const reason = refusalReason(from, to, typeOf, byType, edges);
      if (reason) onConnectRefused(reason);
    },
    [typeOf, byType, edges, onConnectRefused],
  );

  const onNodesChange = useCallback((changes: NodeChange<DesignerNode>[]) => dispatch({ type: 'nodesChange', changes }), [dispatch]);
  const onEdgesChange = useCallback((changes: EdgeChange<DesignerEdge>[]) => dispatch({ type: 'edgesChange', changes }), [dispatch]);

  // One undo step for a deletion of nodes together with their routes.
  const onBeforeDelete: OnBeforeDelete<DesignerNode, DesignerEdge> = useCallback(
    async ({ nodes: dn, edges: de }) => {
      dispatch({ type: 'delete', nodeIds: dn.map((n) => n.id), edgeIds: de.map((e) => e.id) });
      return false;
    },
    [dispatch],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DND_MIME);
      if (!type) return;
      e.preventDefault();
      const desc = byType.get(type);
      if (!desc) return;
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // centre the card (about 200×100) on the pointer
      // a drop does not select the new card: the sheet opens when the user selects it
      dispatch({ type: 'addNode', componentType: type, title: desc.title, position: { x: p.x - 100, y: p.y - 40 }, select: false });
    },
    [byType, rf, dispatch],
  );

  const styledEdges = useMemo(
    () =>
      edges.map((e) => {
        const bad = issues.byEdge[e.id];
        const js = isJetStream(e);
        const classes = [e.className, js ? 'edge-jetstream' : undefined, bad ? 'edge-invalid' : undefined].filter(Boolean).join(' ');
        const styled: DesignerEdge = { ...e, type: 'routed', markerEnd: js ? jetStreamArrow : arrow };
        if (classes) styled.className = classes;
        if (bad) styled.label = bad.join('; ');
        return styled;
      }),
    [edges, issues.byEdge],
  );

  const empty = nodes.length === 0;
  const titles = components.map((c) => c.title);

  return (
    <div className="lf-canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow<DesignerNode, DesignerEdge>
        nodes={nodes}
        edges={styledEdges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onBeforeDelete={onBeforeDelete}
        onNodeDoubleClick={(_, n) => onNodeOpen(n.id)}
        deleteKeyCode={['Delete', 'Backspace']}
        multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
        colorMode="system"
        minZoom={0.2}
        maxZoom={2.5}
        snapToGrid
        snapGrid={[10, 10]}
        defaultEdgeOptions={{ interactionWidth: 16 }}
        connectionRadius={28}
        proOptions={{ hideAttribution: true }}
        aria-label="Flow canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} />
        <Controls position="bottom-left" showInteractive={false} />
        <MiniMap
          position="bottom-right"
          pannable
          zoomable
          ariaLabel="Mini map"
          nodeColor={(n) => roleColour(roleOf(capabilitiesOf(byType.get((n.data as DesignerNode['data']).type))))}
          nodeStrokeWidth={2}
        />
      </ReactFlow>
      {empty && (
        <div className="lf-empty" data-testid="canvas-empty">
          <div className="lf-empty-card">
            <div className="lf-empty-title">
              Drag {titles.length >= 3 ? 'a Feeder, a LambdaConnector and a Display' : 'components'} here
            </div>
            <ol>
              <li>Drag components from the palette on the left (or press Enter on one).</li>
              <li>Wire an output port on the right of a card to an input port on the left of another.</li>
              <li>Double-click a card to fill its property sheet, then Save and Start.</li>
            </ol>
          </div>
        </div>
      )}
    </div>
  );
}
