import { describe, expect, it } from 'vitest';
import { labelPoint, roundedPath, routeOrthogonal, segmentCrossesBox, type Box, type Point } from './routing';

const card = (x: number, y: number, width = 200, height = 90): Box => ({ x, y, width, height });
/** The output port of a card (right side, middle) and the input port (left side, middle). */
const outPort = (b: Box): Point => ({ x: b.x + b.width, y: b.y + b.height / 2 });
const inPort = (b: Box): Point => ({ x: b.x, y: b.y + b.height / 2 });

function segments(points: Point[]): [Point, Point][] {
  return points.slice(1).map((p, i) => [points[i]!, p]);
}

function crossesAny(points: Point[], boxes: Box[]): boolean {
  return segments(points).some(([a, b]) => boxes.some((box) => segmentCrossesBox(a, b, box)));
}

function expectOrthogonal(points: Point[], from: Point, to: Point) {
  expect(points[0]).toEqual(from);
  expect(points.at(-1)).toEqual(to);
  for (const [a, b] of segments(points)) expect(a.x === b.x || a.y === b.y).toBe(true);
}

/** A small deterministic random generator (mulberry32) for layouts. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('segmentCrossesBox', () => {
  const box = card(0, 0, 100, 50);
  it('sees a segment through the inside', () => {
    expect(segmentCrossesBox({ x: -10, y: 25 }, { x: 110, y: 25 }, box)).toBe(true);
    expect(segmentCrossesBox({ x: 50, y: -10 }, { x: 50, y: 10 }, box)).toBe(true);
  });
  it('lets a segment run along an edge or stop short of it', () => {
    expect(segmentCrossesBox({ x: -10, y: 0 }, { x: 110, y: 0 }, box)).toBe(false);
    expect(segmentCrossesBox({ x: -10, y: 25 }, { x: 0, y: 25 }, box)).toBe(false);
    expect(segmentCrossesBox({ x: 120, y: -10 }, { x: 120, y: 60 }, box)).toBe(false);
  });
});

describe('routeOrthogonal', () => {
  it('draws a straight wire between two cards in line with nothing between', () => {
    const a = card(0, 0);
    const b = card(400, 0);
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b]);
    expect(r).toEqual({ points: [outPort(a), inPort(b)], routed: true });
  });

  it('goes round a card placed between two wired cards', () => {
    const a = card(0, 100);
    const b = card(700, 100);
    const middle = card(330, 80, 200, 130);
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b, middle]);
    expect(r.routed).toBe(true);
    expectOrthogonal(r.points, outPort(a), inPort(b));
    // the straight line would cross the middle card; the route crosses no card at all
    expect(crossesAny([outPort(a), inPort(b)], [middle])).toBe(true);
    expect(crossesAny(r.points, [middle])).toBe(false);
    // and keeps the wire out of its own cards, except for the port ends themselves
    expect(crossesAny(r.points.slice(1, -1), [a, b])).toBe(false);
  });

  it('keeps the margin from the card it goes round', () => {
    const a = card(0, 100);
    const b = card(700, 100);
    const middle = card(330, 80, 200, 130);
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b, middle], { margin: 20 });
    const grown = { x: middle.x - 19, y: middle.y - 19, width: middle.width + 38, height: middle.height + 38 };
    expect(crossesAny(r.points, [grown])).toBe(false);
  });

  it('routes a wire back to a card on its left round both cards', () => {
    const a = card(500, 100);
    const b = card(0, 100);
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b]);
    expect(r.routed).toBe(true);
    expectOrthogonal(r.points, outPort(a), inPort(b));
    // leaves to the right and arrives from the left
    expect(r.points[1]!.x).toBeGreaterThan(outPort(a).x);
    expect(r.points.at(-2)!.x).toBeLessThan(inPort(b).x);
    expect(crossesAny(r.points.slice(1, -1), [a, b])).toBe(false);
  });

  it('never crosses a card in random layouts where a route exists', () => {
    const random = rng(42);
    let routed = 0;
    for (let n = 0; n < 150; n++) {
      const boxes: Box[] = [];
      while (boxes.length < 7) {
        const b = card(Math.round(random() * 1200), Math.round(random() * 800), 120 + Math.round(random() * 100), 60 + Math.round(random() * 60));
        const apart = boxes.every((o) => b.x > o.x + o.width + 40 || o.x > b.x + b.width + 40 || b.y > o.y + o.height + 40 || o.y > b.y + b.height + 40);
        if (apart) boxes.push(b);
      }
      const from = outPort(boxes[0]!);
      const to = inPort(boxes[1]!);
      const r = routeOrthogonal(from, to, boxes);
      expectOrthogonal(r.points, from, to);
      if (!r.routed) continue;
      routed++;
      expect(crossesAny(r.points, boxes.slice(2))).toBe(false);
      expect(crossesAny(r.points.slice(1, -1), boxes.slice(0, 2))).toBe(false);
    }
    // cards 40 apart always leave a way round
    expect(routed).toBe(150);
  });

  it('finds its way through a large canvas of cards, crossing none, far ones included', () => {
    // 8 rows × 10 columns of cards, 60 apart: the wire from the top-left card to the bottom-right one
    const boxes: Box[] = [];
    for (let row = 0; row < 8; row++) for (let col = 0; col < 10; col++) boxes.push(card(col * 260, row * 150));
    for (const [a, b] of [
      [0, 79],
      [79, 0],
      [5, 74],
      [40, 49],
      [12, 13],
    ] as const) {
      const from = outPort(boxes[a]!);
      const to = inPort(boxes[b]!);
      const r = routeOrthogonal(from, to, boxes);
      expect(r.routed, `route ${a} → ${b}`).toBe(true);
      expectOrthogonal(r.points, from, to);
      expect(crossesAny(r.points.slice(1, -1), boxes), `route ${a} → ${b}`).toBe(false);
    }
  });

  it('goes round a card far from both ports that the direct way would cross', () => {
    const a = card(0, 0);
    const b = card(2000, 0);
    // a tall card halfway, well away from both ports' neighbourhoods
    const wall = card(1000, -300, 100, 700);
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b, wall]);
    expect(r.routed).toBe(true);
    expect(crossesAny(r.points, [wall])).toBe(false);
  });

  it('falls back to the plain step when the target is boxed in', () => {
    const a = card(0, 300);
    const b = card(620, 310);
    // a ring of cards touching each other round the target, with room inside it
    const ring = [card(460, 200, 520, 60), card(460, 460, 520, 60), card(460, 260, 60, 200), card(920, 260, 60, 200)];
    const r = routeOrthogonal(outPort(a), inPort(b), [a, b, ...ring]);
    expect(r.routed).toBe(false);
    const mid = (outPort(a).x + inPort(b).x) / 2;
    expect(r.points).toEqual([outPort(a), { x: mid, y: outPort(a).y }, { x: mid, y: inPort(b).y }, inPort(b)]);
  });
});

describe('roundedPath', () => {
  it('starts and ends at the ports and rounds each corner', () => {
    const d = roundedPath([
      { x: 0, y: 0 },
      { x: 50, y: 0 },
      { x: 50, y: 40 },
      { x: 100, y: 40 },
    ]);
    expect(d.startsWith('M 0 0')).toBe(true);
    expect(d.endsWith('L 100 40')).toBe(true);
    expect(d.match(/Q/g)).toHaveLength(2);
  });
});

describe('labelPoint', () => {
  it('is the middle of the longest segment, which gives the room for a label', () => {
    expect(
      labelPoint([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 100 },
        { x: 20, y: 100 },
      ]),
    ).toEqual({ x: 10, y: 50, room: 100 });
  });
});
