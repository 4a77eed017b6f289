// A wire that routes around the cards on the canvas (lib/routing), arrowhead and label kept.
import { BaseEdge, useStore, type EdgeProps, type ReactFlowState } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { DesignerEdge } from '../lib/model';
import { labelPoint, roundedPath, routeOrthogonal, type Box } from '../lib/routing';

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

function RoutedEdgeImpl({ id, sourceX, sourceY, targetX, targetY, markerEnd, style, label, interactionWidth }: EdgeProps<DesignerEdge>) {
  const key = useStore(boxesKey);
  const points = useMemo(
    () => routeOrthogonal({ x: sourceX, y: sourceY }, { x: targetX, y: targetY }, parseBoxes(key)).points,
    [key, sourceX, sourceY, targetX, targetY],
  );
  const at = labelPoint(points);
  return <BaseEdge id={id} path={roundedPath(points)} markerEnd={markerEnd} style={style} label={label} labelX={at.x} labelY={at.y} interactionWidth={interactionWidth} />;
}

export const RoutedEdge = memo(RoutedEdgeImpl);
