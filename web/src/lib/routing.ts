// Orthogonal wire routing around cards: a shortest path with few bends on the sparse grid made of
// the cards' (padded) edges, falling back to a plain three-segment step when there is no way round.
//
// Wires leave an output port to the right and enter an input port from the left (the designer's
// handles sit on those sides). The router is a pure function: the edge component measures the
// cards and hands their boxes in.

export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box: a card's rectangle in flow coordinates. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RouteOptions {
  /** Clearance kept between a wire and any card, in flow units. */
  margin?: number;
  /** Extra cost of one bend, in flow units of length (fewer bends beat slightly shorter paths). */
  bendCost?: number;
}

export interface Route {
  /** Corner points from source to target; consecutive points share x or y. */
  points: Point[];
  /** False when no way round the cards was found and the plain step was drawn instead. */
  routed: boolean;
}

const DEFAULT_MARGIN = 14;
const DEFAULT_BEND_COST = 24;
/** How far around the two ports cards are taken into account from the start. */
const NEAR = 120;

/** True when the open segment a–b (axis-aligned) passes through the inside of the box. */
export function segmentCrossesBox(a: Point, b: Point, box: Box): boolean {
  const left = box.x;
  const right = box.x + box.width;
  const top = box.y;
  const bottom = box.y + box.height;
  if (a.y === b.y) {
    const lo = Math.min(a.x, b.x);
    const hi = Math.max(a.x, b.x);
    return a.y > top && a.y < bottom && hi > left && lo < right;
  }
  const lo = Math.min(a.y, b.y);
  const hi = Math.max(a.y, b.y);
  return a.x > left && a.x < right && hi > top && lo < bottom;
}

function inside(p: Point, box: Box): boolean {
  return p.x > box.x && p.x < box.x + box.width && p.y > box.y && p.y < box.y + box.height;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function inflate(b: Box, m: number): Box {
  return { x: b.x - m, y: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m };
}

/** The step React Flow draws by default: out to the middle, across, in. */
export function simpleStep(source: Point, target: Point): Point[] {
  if (source.y === target.y) return [source, target];
  const midX = (source.x + target.x) / 2;
  return [source, { x: midX, y: source.y }, { x: midX, y: target.y }, target];
}

function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Adds the midpoints between neighbours: routes may run down the middle of a gap. */
function withMidpoints(values: number[]): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    out.push(v);
    const next = values[i + 1];
    if (next !== undefined) out.push((v + next) / 2);
  });
  return out;
}

/** Drops the middle point of every straight run (three points on one line). */
function simplify(points: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && last.x === p.x && last.y === p.y) continue;
    const prev = out[out.length - 2];
    if (prev && last && ((prev.x === last.x && last.x === p.x) || (prev.y === last.y && last.y === p.y))) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

// directions: 0 east, 1 west, 2 south, 3 north
const DX = [1, -1, 0, 0];
const DY = [0, 0, 1, -1];

/** A binary min-heap of [cost, state]. */
class Heap {
  private items: [number, number][] = [];
  get size(): number {
    return this.items.length;
  }
  push(cost: number, state: number): void {
    const a = this.items;
    a.push([cost, state]);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]![0] <= a[i]![0]) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }
  pop(): [number, number] {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]![0] < a[m]![0]) m = l;
        if (r < a.length && a[r]![0] < a[m]![0]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The cheapest way from `start` (heading east) to `end` (arriving heading east) over the sparse
 * grid of the padded boxes' edges and their midlines, never through a box; null when there is none.
 */
function searchGrid(start: Point, end: Point, padded: readonly Box[], bendCost: number): Point[] | null {
  const xs = withMidpoints(sortedUnique([start.x, end.x, ...padded.flatMap((b) => [b.x, b.x + b.width])]));
  const ys = withMidpoints(sortedUnique([start.y, end.y, ...padded.flatMap((b) => [b.y, b.y + b.height])]));
  const nx = xs.length;
  const ny = ys.length;
  const xIndex = new Map(xs.map((v, i) => [v, i]));
  const yIndex = new Map(ys.map((v, j) => [v, j]));
  const pointAt = (i: number): Point => ({ x: xs[i % nx]!, y: ys[Math.floor(i / nx)]! });
  // Every box edge is a grid line, so a box covers whole index ranges: mark the points inside it,
  // and the east-going and south-going grid segments through its inside, once per box.
  const inBox = new Uint8Array(nx * ny);
  const eastBlocked = new Uint8Array(nx * ny);
  const southBlocked = new Uint8Array(nx * ny);
  for (const b of padded) {
    const i0 = xIndex.get(b.x)!;
    const i1 = xIndex.get(b.x + b.width)!;
    const j0 = yIndex.get(b.y)!;
    const j1 = yIndex.get(b.y + b.height)!;
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const k = j * nx + i;
        const innerX = i > i0 && i < i1;
        const innerY = j > j0 && j < j1;
        if (innerX && innerY) inBox[k] = 1;
        if (innerY && i < i1) eastBlocked[k] = 1;
        if (innerX && j < j1) southBlocked[k] = 1;
      }
    }
  }
  /** Whether the grid segment between neighbours k and n (n one step in direction d) is free. */
  const open = (k: number, n: number, d: number) => (d === 0 ? !eastBlocked[k] : d === 1 ? !eastBlocked[n] : d === 2 ? !southBlocked[k] : !southBlocked[n]);
  const startIdx = yIndex.get(start.y)! * nx + xIndex.get(start.x)!;
  const endIdx = yIndex.get(end.y)! * nx + xIndex.get(end.x)!;

  // Dijkstra over (grid point, heading): length plus a cost per bend
  const states = nx * ny * 4;
  const dist = new Float64Array(states).fill(Infinity);
  const prev = new Int32Array(states).fill(-1);
  const heap = new Heap();
  const first = startIdx * 4; // heading east, out of the source port
  dist[first] = 0;
  heap.push(0, first);
  let goal = -1;
  let goalCost = Infinity;
  while (heap.size > 0) {
    const [cost, state] = heap.pop();
    if (cost >= goalCost) break;
    if (cost > dist[state]!) continue;
    const idx = state >> 2;
    const dir = state & 3;
    if (idx === endIdx) {
      // into the target port heading east: one more bend when arriving another way
      const total = cost + (dir === 0 ? 0 : bendCost);
      if (total < goalCost) {
        goal = state;
        goalCost = total;
      }
      continue;
    }
    const i = idx % nx;
    const j = Math.floor(idx / nx);
    for (let d = 0; d < 4; d++) {
      if ((d ^ 1) === dir) continue; // no U-turn on the spot
      const ni = i + DX[d]!;
      const nj = j + DY[d]!;
      if (ni < 0 || nj < 0 || ni >= nx || nj >= ny) continue;
      const nidx = nj * nx + ni;
      if (inBox[nidx] || !open(idx, nidx, d)) continue;
      const a = pointAt(idx);
      const b = pointAt(nidx);
      const next = nidx * 4 + d;
      const c = cost + Math.abs(b.x - a.x) + Math.abs(b.y - a.y) + (d === dir ? 0 : bendCost);
      if (c < dist[next]!) {
        dist[next] = c;
        prev[next] = state;
        heap.push(c, next);
      }
    }
  }
  if (goal < 0) return null;
  const path: Point[] = [];
  for (let s = goal; s >= 0; s = prev[s]!) path.push(pointAt(s >> 2));
  return path.reverse();
}


/**
 * Routes a wire from an output port (`source`, on the right side of its card) to an input port
 * (`target`, on the left side of its card) so that no segment passes through any of `obstacles`
 * (every card, the wire's own two included), keeping `margin` clear of them. When the cards leave
 * no way round, returns the plain step with `routed: false`.
 *
 * Cards far from the wire rarely matter: the search starts with the cards near the two ports and
 * adds any card its route crosses, until a route crosses none (more cards only remove ways, so
 * no route with some of them means none with all).
 */
export function routeOrthogonal(source: Point, target: Point, obstacles: readonly Box[], options: RouteOptions = {}): Route {
  const margin = options.margin ?? DEFAULT_MARGIN;
  const bendCost = options.bendCost ?? DEFAULT_BEND_COST;
  const fallback = (): Route => ({ points: simpleStep(source, target), routed: false });
  const padded = obstacles.map((b) => inflate(b, margin));
  // the stubs: just outside the padded cards, straight out of and into the ports
  const start: Point = { x: source.x + margin, y: source.y };
  const end: Point = { x: target.x - margin, y: target.y };
  const crossed = (points: Point[], boxes: readonly Box[]) => boxes.filter((box) => points.some((p, k) => k > 0 && segmentCrossesBox(points[k - 1]!, p, box)));
  if (padded.some((box) => inside(start, box) || inside(end, box))) return fallback();

  // the straight wire, when nothing is in its way
  if (start.y === end.y && start.x <= end.x && crossed([start, end], padded).length === 0) return { points: [source, target], routed: true };

  const near = inflate({ x: Math.min(start.x, end.x), y: Math.min(start.y, end.y), width: Math.abs(end.x - start.x), height: Math.abs(end.y - start.y) }, NEAR);
  const active = new Set(padded.filter((b) => overlaps(b, near)));
  for (;;) {
    const path = searchGrid(start, end, [...active], bendCost);
    if (!path) return fallback();
    const more = crossed(path, padded).filter((b) => !active.has(b));
    if (more.length === 0) return { points: simplify([source, ...path, target]), routed: true };
    for (const b of more) active.add(b);
  }
}

/** An SVG path through the corner points, corners rounded with at most `radius`. */
export function roundedPath(points: readonly Point[], radius = 8): string {
  if (points.length === 0) return '';
  const f = (n: number) => Math.round(n * 100) / 100;
  let d = `M ${f(points[0]!.x)} ${f(points[0]!.y)}`;
  for (let k = 1; k < points.length - 1; k++) {
    const p = points[k - 1]!;
    const c = points[k]!;
    const n = points[k + 1]!;
    const r = Math.min(radius, Math.hypot(c.x - p.x, c.y - p.y) / 2, Math.hypot(n.x - c.x, n.y - c.y) / 2);
    const inX = c.x - Math.sign(c.x - p.x) * r;
    const inY = c.y - Math.sign(c.y - p.y) * r;
    const outX = c.x + Math.sign(n.x - c.x) * r;
    const outY = c.y + Math.sign(n.y - c.y) * r;
    d += ` L ${f(inX)} ${f(inY)} Q ${f(c.x)} ${f(c.y)} ${f(outX)} ${f(outY)}`;
  }
  const last = points[points.length - 1]!;
  return `${d} L ${f(last.x)} ${f(last.y)}`;
}

/** Where to put a label: the middle of the longest segment, and that segment's length (`room`). */
export function labelPoint(points: readonly Point[]): Point & { room: number } {
  let best = points[0] ?? { x: 0, y: 0 };
  let bestLen = -1;
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1]!;
    const b = points[k]!;
    const len = Math.abs(b.x - a.x) + Math.abs(b.y - a.y);
    if (len > bestLen) {
      bestLen = len;
      best = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    }
  }
  return { ...best, room: Math.max(bestLen, 0) };
}
