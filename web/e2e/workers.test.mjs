// Issue 12's "done when", in real headless Chromium: a flow saved in the designer is switched to
// a JetStream route, deployed from the designer to a `serve --nats` server (a real `nats-server
// -js`), and run by two `lambdaflow worker --flow-id` processes; the designer's workers strip
// lists both with their counters and the Display's card says two workers run it. Screenshots in
// test-results/.
//
// Run through `npm run e2e` (e2e/run.mjs), which starts the emulator and sets the environment.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { dropAndWire, newFlow, session, shot, startProcess, unexpectedProblems, waitFor } from './harness.mjs';

const FLOW_ID = 'e2e-workers';
const s = session({ nats: true });
const workers = [];

after(async () => {
  for (const w of workers) await w.stop();
});

function startWorker(name) {
  const w = startProcess(`lambdaflow-worker-${name}`, process.env.LAMBDAFLOW_BIN, ['worker', '--nats', s.nats.url, '--flow-id', FLOW_ID, '--worker-id', name, '--quiet'], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });
  workers.push(w);
  return w;
}

test('a flow switched to a JetStream route in the designer, deployed, runs in two workers the designer shows', async () => {
  const { page } = s;
  await newFlow(page, s.server.url, 'Workers', FLOW_ID);
  await dropAndWire(page, [['feeder', 130, 240, 'feeder1'], ['display', 600, 240, 'display1']], [['feeder1', 'out', 'display1', 'in']]);

  // the wire's route sheet: JetStream
  await page.getByTestId('rf__edge-route1').locator('path.react-flow__edge-interaction').click({ force: true });
  await page.getByTestId('transport-jetstream').check();
  await page.getByRole('button', { name: 'Close route sheet' }).click();

  // Deploy saves, then hands the flow to the workers (the server does not run it)
  await page.getByTestId('deploy').click();
  await waitFor('the deploy to reach the workers bucket', async () => ((await page.locator('.lf-toast, [role="status"]').allTextContents()).join(' ')).includes('Deployed to the workers'));
  const saved = await (await fetch(`${s.server.url}/api/flows/${FLOW_ID}`)).json();
  assert.equal(saved.edges[0].transport, 'jetstream');

  const strip = page.getByTestId('workers-panel');
  await waitFor('the workers strip to say no worker runs the flow yet', async () => (await strip.getAttribute('data-state')) === 'none');
  await shot(page, 'workers-none-yet');

  for (const name of ['w1', 'w2']) startWorker(name);
  await waitFor(
    'both workers in the workers strip',
    async () => {
      for (const w of workers) if (w.exited) throw new Error(`${w.name} exited ${JSON.stringify(w.exited)}:\n${w.log()}`);
      return (await page.getByTestId('worker-w1').count()) === 1 && (await page.getByTestId('worker-w2').count()) === 1;
    },
    { timeoutMs: 60_000 },
  );
  await waitFor('the strip to count two running workers', async () => (await strip.getAttribute('data-state')) === '2 running', { timeoutMs: 60_000 });
  // every worker runs the Display (the Feeder, a source, runs only where its lease is, until done)
  await waitFor('the Display card to say two workers run it', async () => (await page.getByTestId('workers-display1').textContent()) === '×2 workers', { timeoutMs: 60_000 });
  // each worker's row has its counters (received/emitted) under the Feeder and the Display
  for (const name of ['w1', 'w2']) {
    const cells = await page.getByTestId(`worker-${name}`).locator('td').allTextContents();
    assert.match(cells[0], new RegExp(`running\\s*${name}`, 'i'));
    assert.equal(cells.length, 3, `worker, Feeder and Display columns: ${cells}`);
    for (const c of cells.slice(1)) assert.match(c, /^\d+\/\d+(\/\d+)?$/, `counters of ${name}: ${cells}`);
  }
  await shot(page, 'workers-two-running');

  assert.deepEqual(unexpectedProblems(s.browser.problems), []);
});
