// Issue 13 point 6, in real headless Chromium with real mouse drags: wires route around cards.
// A card dropped (then dragged) between two wired cards must not have the wire drawn over it;
// the check reads the rendered SVG path's geometry against the card's box on screen. Each step
// keeps a screenshot in test-results/.
//
// Run through `npm run e2e` (e2e/run.mjs), which starts the emulator and sets the environment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeInspector, dragFromPalette, dropAndWire, handle, newFlow, shot, startBrowser, startServer, unexpectedProblems, waitFor } from './harness.mjs';

const TIMEOUT = 30_000;

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  if (browser) await browser.stop();
  if (server) await server.stop();
});

/**
 * Samples the first wire's rendered path every 2 px (in screen coordinates) and returns the
 * samples that fall inside the card's box, with the path's two ends.
 */
async function wireOverCard(nodeId) {
  return page.evaluate((id) => {
    const path = document.querySelector('.react-flow__edge path.react-flow__edge-path');
    const card = document.querySelector(`.react-flow__node[data-id="${id}"]`).getBoundingClientRect();
    const ctm = path.getScreenCTM();
    const len = path.getTotalLength();
    const at = (s) => {
      const p = path.getPointAtLength(s);
      return new DOMPoint(p.x, p.y).matrixTransform(ctm);
    };
    const inside = [];
    let samples = 0;
    for (let s = 0; s <= len; s += 2) {
      const q = at(s);
      samples++;
      if (q.x > card.left && q.x < card.right && q.y > card.top && q.y < card.bottom) inside.push([Math.round(q.x), Math.round(q.y)]);
    }
    const a = at(0);
    const b = at(len);
    return { inside, samples, start: { x: a.x, y: a.y }, end: { x: b.x, y: b.y }, card: { left: card.left, right: card.right, top: card.top, bottom: card.bottom } };
  }, nodeId);
}

async function centre(locator) {
  const b = await locator.boundingBox();
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** The wire still joins the two ports it was drawn between, and crosses the card nowhere. */
async function assertRoutedAround(nodeId, what) {
  const from = await centre(handle(page, 'feeder1', 'out'));
  const to = await centre(handle(page, 'display1', 'in'));
  // the wire is re-routed after the card moves: wait until it leaves the card
  let g;
  await waitFor(`the wire to route around ${nodeId} (${what})`, async () => {
    g = await wireOverCard(nodeId);
    return g.inside.length === 0;
  }).catch((e) => {
    throw new Error(`${e.message}; ${g?.inside.length} of ${g?.samples} samples inside ${JSON.stringify(g?.card)}, e.g. ${JSON.stringify(g?.inside.slice(0, 3))}`);
  });
  assert.ok(g.samples > 50, 'the wire was sampled along its length');
  assert.ok(Math.hypot(g.start.x - from.x, g.start.y - from.y) < 12, `the wire starts at feeder1.out (${JSON.stringify(g.start)} vs ${JSON.stringify(from)})`);
  assert.ok(Math.hypot(g.end.x - to.x, g.end.y - to.y) < 12, `the wire ends at display1.in (${JSON.stringify(g.end)} vs ${JSON.stringify(to)})`);
  // a straight wire between the ports would have crossed the card: the check means something
  const card = g.card;
  const y = (from.y + to.y) / 2;
  assert.ok(card.left > from.x && card.right < to.x && card.top < y && card.bottom > y, `the card sits across the straight line (${what})`);
  const marker = await page.locator('.react-flow__edge path.react-flow__edge-path').first().getAttribute('marker-end');
  assert.match(marker ?? '', /url\(/, 'the routed wire keeps its arrowhead');
}

test('a wire routes around a card dropped between the two cards it joins, and again when the card is dragged', async () => {
  await newFlow(page, server.url, 'Routing', 'e2e-routing');

  await dropAndWire(page, [['feeder', 150, 260, 'feeder1'], ['display', 850, 260, 'display1']], [['feeder1', 'out', 'display1', 'in']]);
  await shot(page, 'routing-straight-wire');

  // a card dropped right on the wire
  await dragFromPalette(page, 'lambda', 500, 260);
  await page.getByTestId('node-lambda1').waitFor();
  await closeInspector(page);
  await assertRoutedAround('lambda1', 'dropped from the palette');
  await shot(page, 'routing-around-dropped-card');

  // dragged by its title to lie across the wire a little lower: the wire goes round it again
  const title = await centre(page.getByTestId('node-lambda1').locator('.lf-node-name'));
  await page.mouse.move(title.x, title.y);
  await page.mouse.down();
  await page.mouse.move(title.x + 20, title.y + 15, { steps: 6 });
  await page.mouse.move(title.x + 40, title.y + 30, { steps: 6 });
  await page.mouse.up();
  await closeInspector(page);
  await assertRoutedAround('lambda1', 'dragged across the wire');
  await shot(page, 'routing-around-dragged-card');

  assert.deepEqual(unexpectedProblems(browser.problems), []);
});
