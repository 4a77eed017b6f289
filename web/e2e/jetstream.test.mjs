// Issue 12 in the designer, in real headless Chromium with real clicks: a wire clicked on the
// canvas (Feeder → Display) opens its route sheet; switched to JetStream with a partition key it is saved as
// flow.schema.json says and drawn dashed with a "JS" badge; switched back to Local both fields
// are gone from the saved flow. On a server without --nats the workers strip says "no broker".
// Each step keeps a screenshot in test-results/.
//
// Run through `npm run e2e` (e2e/run.mjs), which starts the emulator and sets the environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dropAndWire, newFlow, session, shot, unexpectedProblems, waitFor } from './harness.mjs';

const FLOW_ID = 'e2e-jetstream';
const s = session();

async function savedFlow() {
  const res = await fetch(`${s.server.url}/api/flows/${FLOW_ID}`);
  assert.equal(res.status, 200, `GET /api/flows/${FLOW_ID}`);
  return res.json();
}

async function save() {
  await s.page.getByTestId('save').click();
  await waitFor('the flow to be saved', async () => (await s.page.getByTestId('save-state').textContent()) === 'saved');
}

/** A point on the route's rendered path (`at` of its length from the start), in screen coordinates. */
async function pointOnWire(edgeId, at) {
  return s.page.evaluate(
    ([id, f]) => {
      const path = document.querySelector(`[data-testid="rf__edge-${id}"] path.react-flow__edge-path`);
      const p = path.getPointAtLength(path.getTotalLength() * f);
      const q = new DOMPoint(p.x, p.y).matrixTransform(path.getScreenCTM());
      return { x: q.x, y: q.y };
    },
    [edgeId, at],
  );
}

/** How the route is drawn: its path's computed dashes and colour, its classes, arrowhead and badge. */
async function drawing(edgeId) {
  return s.page.evaluate((id) => {
    const g = document.querySelector(`[data-testid="rf__edge-${id}"]`);
    const path = g.querySelector('path.react-flow__edge-path');
    const style = getComputedStyle(path);
    const badge = g.querySelector('.lf-edge-badge');
    return {
      classes: [...g.classList],
      dashes: style.strokeDasharray,
      stroke: style.stroke,
      marker: path.getAttribute('marker-end'),
      badge: badge ? { text: badge.querySelector('text').textContent, title: badge.querySelector('title').textContent, visible: badge.getBoundingClientRect().width > 0 } : null,
    };
  }, edgeId);
}

test('a wire switched to JetStream with a partition key is saved and drawn as such, and back to Local drops both fields', async () => {
  await newFlow(s.page, s.server.url, 'JetStream routes', FLOW_ID);
  await dropAndWire(
    s.page,
    [['feeder', 130, 240, 'feeder1'], ['display', 560, 240, 'display1'], ['display', 960, 240, 'display2']],
    [['feeder1', 'out', 'display1', 'in'], ['display1', 'out', 'display2', 'in']],
  );
  await save();
  const local = await drawing('route1');
  assert.equal(local.dashes, 'none', 'a local route is drawn solid');
  assert.equal(local.badge, null, 'a local route has no badge');

  // click the wire between the Feeder and the Display: its route sheet opens
  const p = await pointOnWire('route1', 0.3);
  await s.page.mouse.click(p.x, p.y);
  const sheet = s.page.getByTestId('edge-sheet');
  await sheet.waitFor();
  assert.match(await sheet.textContent(), /Feeder.*→.*Display/s);
  assert.equal(await s.page.getByTestId('transport-local').isChecked(), true);
  assert.equal(await s.page.getByTestId('partition-key').count(), 0, 'no partition key for a local route');
  await shot(s.page, 'jetstream-route-sheet-local');

  await s.page.getByTestId('transport-jetstream').check();
  const key = s.page.getByTestId('partition-key');
  await key.click();
  await s.page.keyboard.type('customerId');
  assert.match(await sheet.textContent(), /Messages with the same value of this property keep their order across workers/);
  await shot(s.page, 'jetstream-route-sheet-keyed');
  await save();
  const saved = await savedFlow();
  const route1 = saved.edges.find((e) => e.id === 'route1');
  assert.deepEqual(route1, { id: 'route1', from: { node: 'feeder1', port: 'out' }, to: { node: 'display1', port: 'in' }, transport: 'jetstream', partitionKey: 'customerId' });
  const route2 = saved.edges.find((e) => e.id === 'route2');
  assert.equal(route2.transport, undefined, 'the other route stays local (omitted)');

  // drawn dashed in its own colour, with its badge and arrowhead; the local route is unchanged
  const js = await drawing('route1');
  assert.ok(js.classes.includes('edge-jetstream'), `classes ${js.classes}`);
  assert.notEqual(js.dashes, 'none', 'a JetStream route is drawn dashed');
  assert.notEqual(js.stroke, local.stroke, 'a JetStream route has its own colour');
  assert.match(js.marker ?? '', /url\(/, 'the JetStream route keeps its arrowhead');
  assert.ok(js.badge?.visible, 'the JetStream route has a badge');
  assert.match(js.badge.text, /^JS/);
  assert.equal(js.badge.title, 'JetStream (durable, shared by workers), keyed by customerId');
  assert.equal((await drawing('route2')).dashes, 'none');

  // this server runs without --nats: the workers strip says there is no broker, no card has workers
  const workers = s.page.getByTestId('workers-panel');
  await waitFor('the workers strip to say there is no broker', async () => (await workers.getAttribute('data-state')) === 'no broker');
  assert.match(await s.page.getByTestId('workers-no-broker').textContent(), /No broker: this server runs without --nats/);
  assert.equal(await s.page.locator('[data-testid^="workers-feeder1"], [data-testid^="workers-display"]').count(), 0);
  await s.page.getByRole('button', { name: 'Close route sheet' }).click();
  await sheet.waitFor({ state: 'detached' });
  await shot(s.page, 'jetstream-route-dashed-with-badge');

  // the badge is part of the wire: clicking it opens the sheet again
  const badge = await s.page.getByTestId('edge-badge-route1').boundingBox();
  await s.page.mouse.click(badge.x + badge.width / 2, badge.y + badge.height / 2);
  await sheet.waitFor();
  assert.equal(await s.page.getByTestId('partition-key').inputValue(), 'customerId');

  await s.page.getByTestId('transport-local').check();
  assert.equal(await s.page.getByTestId('partition-key').count(), 0);
  // undoable like any edit, with the keyboard, from the radio button just clicked
  await s.page.keyboard.press('Control+z');
  await waitFor('undo to bring JetStream back', async () => s.page.getByTestId('transport-jetstream').isChecked());
  assert.equal(await s.page.getByTestId('partition-key').inputValue(), 'customerId');
  await s.page.keyboard.press('Control+Shift+z');
  await waitFor('redo to switch to Local again', async () => s.page.getByTestId('transport-local').isChecked());
  await save();
  const back = (await savedFlow()).edges.find((e) => e.id === 'route1');
  assert.deepEqual(back, { id: 'route1', from: { node: 'feeder1', port: 'out' }, to: { node: 'display1', port: 'in' } });
  const solid = await drawing('route1');
  assert.equal(solid.dashes, 'none');
  assert.equal(solid.badge, null);
  // no JetStream route left: no workers strip
  await workers.waitFor({ state: 'detached' });
  await shot(s.page, 'jetstream-route-back-to-local');

  assert.deepEqual(unexpectedProblems(s.browser.problems), []);
});
