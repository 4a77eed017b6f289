// A wire that routes around the cards on the canvas (lib/routing), arrowhead and label kept;
// a JetStream route is drawn dashed in its own colour with a "JS" badge at its middle.
import { BaseEdge, useStore, type EdgeProps, type ReactFlowState } from '@xyflow/react';
import { memo, useMemo } from 'react';
import { isJetStream, type DesignerEdge } from '../lib/model';
import { labelPoint, roundedPath, routeOrthogonal, type Box } from '../lib/routing';
import { badgeWidth, jetStreamBadge, jetStreamTitle } from '../lib/transport';

/** Every measured card's box as one string, so that edges re-route only when a card moves or resizes. */
function boxesKey(s: ReactFlowState): string {
  let key = '';
  for (const n of s.nodeLookup.values()) {
    const w = n.measured.width;
    const h = n.measured.height;
    if (!w || !h) continue;
    const p = n.internals.positionAbsolute;
    key += `${p.x},${p.y},${w},${h};`;
  }
  return key;
}

function parseBoxes(key: string): Box[] {
  return key
    .split(';')
    .filter(Boolean)
    .map((s) => {
      const [x, y, width, height] = s.split(',').map(Number) as [number, number, number, number];
      return { x, y, width, height };
    });
}

/** The badge at a JetStream route's middle; its tooltip says what the route is. */
function JetStreamBadge({ id, x, y, room, data }: { id: string; x: number; y: number; room: number; data: DesignerEdge['data'] }) {
  const text = jetStreamBadge(data, room);
  const width = badgeWidth(text);
  return (
    <g className="lf-edge-badge" transform={`translate(${x}, ${y})`} data-testid={`edge-badge-${id}`}>
      <title>{jetStreamTitle(data)}</title>
      <rect x={-width / 2} y={-9} width={width} height={18} rx={9} />
      <text textAnchor="middle" dy="0.35em">
        {text}
      </text>
    </g>
  );
}

function RoutedEdgeImpl({ id, data, sourceX, sourceY, targetX, targetY, markerEnd, style, label, interactionWidth }: EdgeProps<DesignerEdge>) {
  const key = useStore(boxesKey);
  const points = useMemo(
    () => routeOrthogonal({ x: sourceX, y: sourceY }, { x: targetX, y: targetY }, parseBoxes(key)).points,
    [key, sourceX, sourceY, targetX, targetY],
  );
  const at = labelPoint(points);
  const js = isJetStream({ data });
  // a problem label sits below the badge
  const labelY = js && label ? at.y + 24 : at.y;
  return (
    <>
      <BaseEdge id={id} path={roundedPath(points)} markerEnd={markerEnd} style={style} label={label} labelX={at.x} labelY={labelY} interactionWidth={interactionWidth} />
      {js && <JetStreamBadge id={id} x={at.x} y={at.y} room={at.room} data={data} />}
    </>
  );
}

export const RoutedEdge = memo(RoutedEdgeImpl);
