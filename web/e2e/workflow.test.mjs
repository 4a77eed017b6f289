// Issue 13, end to end in real headless Chromium with real mouse drags: the first-flow path a
// new user takes (counting its actions), Deploy, live state, the Lambda-first property sheet
// writing only the user's values, canvas ergonomics and Test record naming. Each step keeps a
// screenshot in test-results/.
//
// Run through `npm run e2e` (e2e/run.mjs), which starts the emulator and sets the environment.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { closeInspector, handle, openNode, shot, startBrowser, startServer, unexpectedProblems, waitFor, wire } from './harness.mjs';

const FLOW_ID = 'my-first-flow';
const TIMEOUT = 30_000;

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  if (process.env.E2E_DEBUG) page.on('response', async (r) => r.url().includes('/api/') && console.log('RES', r.request().method(), r.url(), r.status(), (await r.text().catch(() => '')).slice(0, 300)));
});

after(async () => {
  if (browser) await browser.stop();
  if (server) await server.stop();
});

async function expectText(locator, text, what) {
  await waitFor(what, async () => ((await locator.textContent()) ?? '').includes(text), { timeoutMs: TIMEOUT });
}

async function serverFlow(id = FLOW_ID) {
  const res = await fetch(`${server.url}/api/flows/${id}`);
  assert.equal(res.status, 200);
  return res.json();
}

async function serverMessages(node, id = FLOW_ID) {
  return (await fetch(`${server.url}/api/flows/${id}/nodes/${node}/messages`)).json();
}

/**
 * Counts what a user does: each click, drag, wire, typed field and key press is one action.
 * The scenario uses only these, so the count is the number of pointer/keyboard actions needed.
 */
function actionCounter(p) {
  const log = [];
  const act = async (what, fn) => {
    log.push(what);
    await fn();
  };
  return {
    log,
    click: (locator, what) => act(`click ${what}`, () => locator.click()),
    type: (locator, text, what) => act(`type ${what}`, () => locator.fill(text)),
    press: (key) => act(`press ${key}`, () => p.keyboard.press(key)),
    // the raw gestures: nothing is closed or cleared for the user behind the count's back
    drag: (type, x, y) => act(`drag ${type}`, () => dragOnto(p, type, x, y)),
    wire: (a, ap, b, bp) => act(`wire ${a}.${ap} → ${b}.${bp}`, () => mouseWire(p, a, ap, b, bp)),
  };
}

/** One mouse drag from an output handle to an input handle (no other gesture). */
async function mouseWire(p, fromNode, fromPort, toNode, toPort) {
  const a = await handle(p, fromNode, fromPort).boundingBox();
  const b = await handle(p, toNode, toPort).boundingBox();
  if (!a || !b) throw new Error(`handles not found: ${fromNode}.${fromPort} → ${toNode}.${toPort}`);
  await p.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await p.mouse.down();
  await p.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await p.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await p.mouse.up();
}

/** Whether the whole card is in the visible part of the canvas (the user can read it). */
async function cardVisible(p, node) {
  const card = await p.getByTestId(`node-${node}`).boundingBox();
  const canvas = await p.getByTestId('canvas').boundingBox();
  return card && canvas && card.x >= canvas.x && card.x + card.width <= canvas.x + canvas.width && card.y >= canvas.y && card.y + card.height <= canvas.y + canvas.height;
}

// Drags here never close the inspector first: a drop must land on the canvas even when the sheet
// is open (it steps aside while a component is dragged). A real mouse drag: press on the palette
// entry, move, release at (x, y) from the canvas' top-left corner.
async function dragOnto(p, type, x, y) {
  const from = await p.getByTestId(`palette-${type}`).boundingBox();
  await p.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await p.mouse.down();
  await p.mouse.move(from.x + from.width / 2 + 30, from.y + from.height / 2 + 10, { steps: 5 });
  const canvas = await p.getByTestId('canvas').boundingBox();
  await p.mouse.move(canvas.x + x, canvas.y + y, { steps: 10 });
  await p.mouse.up();
}

test('a new user reaches the greeting, then the error record, in fewer than 29 actions, without reading JSON', async () => {
  await page.goto(server.url + '/');
  await page.getByRole('heading', { name: 'Design a flow' }).waitFor();
  await shot(page, 'first-flow-welcome');
  const user = actionCounter(page);

  await user.type(page.getByTestId('new-flow-name'), 'My first flow', 'the flow name');
  await user.press('Enter');
  await page.getByTestId('canvas-empty').waitFor();
  // compact, so that the cards stay in view beside the property sheet
  await user.drag('feeder', 130, 200);
  await page.getByTestId('node-feeder1').waitFor();
  await user.drag('lambda', 380, 200);
  await page.getByTestId('node-lambda1').waitFor();
  await user.drag('display', 630, 140);
  await page.getByTestId('node-display1').waitFor();
  await user.wire('feeder1', 'out', 'lambda1', 'in');
  await user.wire('lambda1', 'out', 'display1', 'in');
  await waitFor('two routes', async () => (await page.locator('.react-flow__edge').count()) === 2);
  await user.click(page.getByTestId('node-lambda1').locator('.lf-node-name'), 'the LambdaConnector');
  await user.type(page.locator('#cfg__functionName'), 'hello', 'the function name');
  await shot(page, 'first-flow-function');
  await user.click(page.getByTestId('deploy'), 'Deploy');
  await expectText(page.getByTestId('flow-state'), 'running', 'the flow to run');
  await user.click(page.getByTestId('send-feeder1'), 'Send on the Feeder card');
  // the greeting shows on the Display's card: no panel to open, no JSON to read
  await expectText(page.getByTestId('node-display1'), 'Hello, World!', 'the greeting on the Display card');
  assert.ok(await cardVisible(page, 'display1'), 'the Display card is in view beside the sheet');
  await shot(page, 'first-flow-greeting');
  const toGreeting = user.log.length;

  await user.drag('display', 630, 400);
  await page.getByTestId('node-display2').waitFor();
  await user.wire('lambda1', 'error', 'display2', 'in');
  await waitFor('the error route', async () => (await page.locator('.react-flow__edge.edge-error').count()) === 1);
  // the LambdaConnector's sheet is still open: a drop does not take the selection
  await user.type(page.locator('#cfg__functionName'), 'fail', 'the function name');
  await user.click(page.getByTestId('deploy'), 'Deploy');
  await waitFor('the new version to run', async () => (await page.getByTestId('status-display2').textContent()) === 'running');
  await user.click(page.getByTestId('send-feeder1'), 'Send on the Feeder card');
  await expectText(page.getByTestId('preview-display2'), 'requestProcessing', 'the error record on the second Display card');
  assert.ok(await cardVisible(page, 'display2'), 'the error Display card is in view');
  await expectText(page.getByTestId('errors-lambda1'), '1', 'the error counter');
  await shot(page, 'first-flow-error-record');

  const total = user.log.length;
  console.log(`actions to the greeting: ${toGreeting}; to the error record: ${total}\n  ${user.log.join('\n  ')}`);
  assert.ok(total < 29, `${total} actions: ${user.log.join(', ')}`);
  assert.ok(toGreeting <= 12, `${toGreeting} actions to the greeting`);
});

test('Deploy marks what differs from the running flow and applies it', async () => {
  // the run has `fail`; switch back to hello: the card says it is not deployed
  await openNode(page, 'lambda1');
  await page.locator('#cfg__functionName').fill('hello');
  await page.getByTestId('changed-lambda1').waitFor();
  await expectText(page.getByTestId('deploy-pending'), '1', 'one node pending deploy');
  // saving alone keeps the mark: the run still has the old version
  await page.getByTestId('save').click();
  await waitFor('saved', async () => (await page.getByTestId('save-state').textContent()) === 'saved');
  assert.equal(await page.getByTestId('changed-lambda1').count(), 1);
  await shot(page, 'deploy-pending');
  await page.getByTestId('deploy').click();
  // while the flow restarts nothing runs, so nothing is marked for a moment: wait for the end state
  await waitFor(
    'no node marked or counted as not deployed',
    async () => (await page.getByTestId('changed-lambda1').count()) === 0 && (await page.getByTestId('deploy-pending').count()) === 0,
  );
  const deployed = await (await fetch(`${server.url}/api/flows/${FLOW_ID}/deploy`)).json();
  assert.equal(deployed.flow.nodes.find((n) => n.id === 'lambda1').config.functionName, 'hello');
  await page.getByTestId('send-feeder1').click();
  await expectText(page.getByTestId('node-display1'), 'Hello, World!', 'the redeployed version answering');
  await shot(page, 'deployed');
});

test('live state: a node added to a running flow is "not deployed", never stuck "starting"', async () => {
  await dragOnto(page, 'display', 1000, 560);
  await page.getByTestId('node-display3').waitFor();
  await expectText(page.getByTestId('status-display3'), 'not deployed', 'the new node’s badge');
  assert.notEqual(await page.getByTestId('status-display3').textContent(), 'starting');
  await shot(page, 'added-while-running');
  await page.locator('.react-flow__node[data-id="display3"]').click();
  await page.keyboard.press('Delete');
  await page.getByTestId('node-display3').waitFor({ state: 'detached' });
});

test('live state: after a restart the Displays show what the server has', async () => {
  const before = await serverMessages('display1');
  assert.ok(before.total >= 1);
  await page.getByTestId('stop').click();
  await expectText(page.getByTestId('flow-state'), 'stopped', 'the flow to stop');
  await page.getByTestId('deploy').click();
  await expectText(page.getByTestId('flow-state'), 'running', 'the flow to run again');
  await openNode(page, 'display1');
  await page.getByTestId('tab-run').click();
  const after = await serverMessages('display1');
  assert.equal(after.total, 0, 'a new run starts with an empty Display on the server');
  await waitFor('the designer’s Display to be as empty as the server’s', async () => (await page.getByTestId('display-empty').count()) === 1);
  await page.getByTestId('send-feeder1').click();
  await waitFor('one message on both sides', async () => (await serverMessages('display1')).total === 1 && (await page.getByTestId('display-panel').getByTestId('message-body').count()) === 1);
  await shot(page, 'display-after-restart');
});

test('live state: error records never read as "offline", and the event is named errorRecord', async () => {
  const seen = await page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const es = new EventSource(url);
        const names = [];
        for (const n of ['errorRecord', 'error']) es.addEventListener(n, (e) => names.push(`${n}:${e.data ? 'data' : 'none'}`));
        window.__names = names;
        window.__es = es;
        es.onopen = () => resolve('open');
      }),
    `/api/flows/${FLOW_ID}/events`,
  );
  assert.equal(seen, 'open');
  await openNode(page, 'lambda1');
  await page.locator('#cfg__functionName').fill('fail');
  await page.getByTestId('deploy').click();
  await page.getByTestId('changed-lambda1').waitFor({ state: 'detached' });
  await page.getByTestId('send-feeder1').click();
  await waitFor('an errorRecord event', async () => (await page.evaluate(() => window.__names)).includes('errorRecord:data'));
  assert.deepEqual((await page.evaluate(() => window.__names)).filter((n) => n.startsWith('error:')), []);
  await page.evaluate(() => window.__es.close());
  await expectText(page.getByTestId('errors-lambda1'), '1', 'the error counter');
  assert.doesNotMatch(await page.getByTestId('flow-state').textContent(), /offline/);
  await shot(page, 'error-record-online');
});

test('live state: undoing the refused change clears its problem marker', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('group-concurrency').locator('summary').click();
  await page.locator('#cfg__maxConcurrency').fill('-1');
  await page.getByTestId('save').click();
  await expectText(page.getByTestId('node-lambda1'), '1 problem', 'the marker');
  // the toast speaks in titles, not pointers
  const toast = await page.locator('.lf-toast--error').first().textContent();
  assert.match(toast, /Max concurrency/i);
  assert.doesNotMatch(toast, /\/nodes\/|\/config\//);
  await shot(page, 'problem-marker');
  await closeInspector(page);
  await page.keyboard.press('Control+z');
  await waitFor('the marker to clear', async () => !/is-invalid/.test(await page.getByTestId('node-lambda1').getAttribute('class')));
  assert.equal(await page.getByTestId('node-lambda1').getByText('1 problem').count(), 0);
  await shot(page, 'problem-marker-undone');
});

test('the LambdaConnector sheet is Lambda-first, compact, and Test sits at the top', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  const body = page.locator('.lf-inspector-body');
  const viewport = page.viewportSize();
  for (const sel of ['[data-testid="test-run"]', '#cfg__functionName', '#cfg__qualifier', '#cfg__connection__region', '#cfg__connection__endpointUrl']) {
    const box = await page.locator(sel).first().boundingBox();
    assert.ok(box && box.y + box.height <= viewport.height, `${sel} is above the fold (${JSON.stringify(box)})`);
  }
  const height = await body.evaluate((el) => el.scrollHeight);
  assert.ok(height < 2000, `the sheet is ${height} px tall`);
  const summary = await page.getByTestId('group-connection').locator('[data-testid="group-summary"]').textContent();
  assert.equal(summary, 'Connection: log, error port, retry 5×');
  // the function picker lists the demo functions (the demo's endpoint answers ListFunctions),
  // through the LambdaConnector's own action for the field, with the sheet's config
  const listing = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/components/lambda/actions/functions' && r.method() === 'POST');
  await page.locator('#cfg__functionName').fill('');
  await page.locator('#cfg__functionName').focus();
  const asked = await listing;
  assert.deepEqual(Object.keys(asked.postDataJSON()).sort(), ['config', 'flow', 'node']);
  const list = page.getByRole('listbox', { name: /function suggestions/i });
  await expectText(list, 'hello', 'hello among the suggestions');
  await expectText(list, 'uppercase', 'uppercase among the suggestions');
  await shot(page, 'function-picker');
  await page.locator('#cfg__functionName').fill('fail');
  await page.keyboard.press('Escape');
  const placeholder = await page.locator('#cfg__functionName').getAttribute('placeholder');
  assert.match(placeholder, /\s/, 'the placeholder reads as a hint');
  await shot(page, 'lambda-first-sheet');
  // the Test record names this flow and node
  await page.getByTestId('test-run').click();
  const results = page.getByTestId('test-results');
  await expectText(results, 'error record', 'the Test failure');
  const record = JSON.parse(await results.getByTestId('message-body').first().textContent());
  assert.equal(record.component.flow, FLOW_ID);
  assert.equal(record.component.node, 'lambda1');
  await shot(page, 'test-record-names');
});

test('the sheet writes only what the user chose: one edit, one value in the saved file', async () => {
  await openNode(page, 'lambda1');
  const before = (await serverFlow()).nodes.find((n) => n.id === 'lambda1').config;
  assert.deepEqual(Object.keys(before), ['functionName']);
  await page.locator('#cfg__connection__region').fill('us-east-1');
  await page.getByTestId('save').click();
  await waitFor('saved', async () => (await page.getByTestId('save-state').textContent()) === 'saved');
  const flow = await serverFlow();
  assert.deepEqual(flow.nodes.find((n) => n.id === 'lambda1').config, { ...before, connection: { region: 'us-east-1' } });
  // the form shows the server's defaults, each error type's own
  await page.getByTestId('group-connection').locator('summary').click();
  const attempts = page.locator('#cfg__errorHandling__connection__retry__maxAttempts');
  assert.equal(await attempts.inputValue(), '5');
  await page.getByTestId('group-request-processing').locator('summary').click();
  assert.equal(await page.locator('#cfg__errorHandling__requestProcessing__retry__maxAttempts').inputValue(), '3');
  await attempts.scrollIntoViewIfNeeded();
  await shot(page, 'sheet-defaults');
});

test('canvas: refused wires say why; routes have arrowheads', async () => {
  await wire(page, 'feeder1', 'out', 'lambda1', 'out');
  await expectText(page.locator('.lf-toasts'), 'both outputs', 'the out→out refusal');
  await wire(page, 'display1', 'in', 'lambda1', 'in');
  await expectText(page.locator('.lf-toasts'), 'both ends are inputs', 'the in→in refusal');
  await wire(page, 'feeder1', 'out', 'lambda1', 'in');
  await expectText(page.locator('.lf-toasts'), 'already connected', 'the duplicate refusal');
  await shot(page, 'refused-wire');
  const marker = await page.locator('.react-flow__edge path.react-flow__edge-path').first().getAttribute('marker-end');
  assert.match(marker ?? '', /url\(/, 'routes end in an arrowhead');
});

test('canvas: a drop with the sheet open lands on the canvas', async () => {
  await openNode(page, 'lambda1');
  const inspector = await page.getByTestId('inspector').boundingBox();
  const canvas = await page.getByTestId('canvas').boundingBox();
  // aim at where the sheet is drawn
  const x = inspector.x + inspector.width / 2 - canvas.x;
  await dragOnto(page, 'display', x, 300);
  await page.getByTestId('node-display3').waitFor();
  await shot(page, 'drop-beside-sheet');
});

test('canvas: select all, copy, paste and duplicate with the usual keys; export the selection', async () => {
  await closeInspector(page);
  await page.locator('.react-flow__node[data-id="display3"]').click();
  const count = () => page.locator('.react-flow__node').count();
  const n0 = await count();
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await waitFor('a pasted node', async () => (await count()) === n0 + 1);
  await page.keyboard.press('Control+d');
  await waitFor('a duplicated node', async () => (await count()) === n0 + 2);
  await shot(page, 'paste-duplicate');
  // export with two nodes selected: those two and the route between them
  await page.locator('.react-flow__node[data-id="feeder1"]').click();
  await page.locator('.react-flow__node[data-id="lambda1"]').click({ modifiers: ['Shift'] });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  const part = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.deepEqual(part.nodes.map((n) => n.id).sort(), ['feeder1', 'lambda1']);
  assert.deepEqual(part.edges.map((e) => `${e.from.node}>${e.to.node}`), ['feeder1>lambda1']);
  await page.locator('.lf-canvas .react-flow__pane').click({ position: { x: 20, y: 20 } });
  await page.keyboard.press('Control+a');
  await waitFor('everything selected', async () => (await page.locator('.react-flow__node.selected').count()) === (await count()));
  await shot(page, 'select-all');
  assert.ok(handle(page, 'feeder1', 'out'));
});

test('debug sidebar: one stream of what Displays and error ports receive, filterable; an entry selects its node', async () => {
  await page.getByTestId('debug-toggle').click();
  const panel = page.getByTestId('debug-panel');
  await panel.waitFor();
  await page.getByTestId('send-feeder1').click();
  const errorEntry = panel.locator('[data-testid="debug-entry"][data-node="lambda1"]').first();
  await errorEntry.waitFor();
  // the Lambda facts side by side with request and response
  const facts = await errorEntry.getByTestId('debug-facts').textContent();
  assert.match(facts, /attempts/);
  assert.match(facts, /function\s*fail/);
  assert.match(await errorEntry.textContent(), /request[\s\S]*response/);
  // the same record as the error Display received it
  await panel.locator('[data-testid="debug-entry"][data-node="display2"]').first().waitFor();
  await shot(page, 'debug-sidebar');
  await page.getByTestId('debug-filter').selectOption('lambda1');
  const nodes = await panel.getByTestId('debug-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')));
  assert.ok(nodes.length > 0 && nodes.every((n) => n === 'lambda1'), nodes.join(','));
  await shot(page, 'debug-filtered');
  await errorEntry.getByTestId('debug-node').click();
  await page.getByTestId('inspector').waitFor();
  assert.match(await page.getByTestId('inspector').getAttribute('aria-label'), /LambdaConnector/);
});

test('the sheet groups streaming, routing, headers and adaptive concurrency with their help; the file gets what the user set', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  const before = (await serverFlow()).nodes.find((n) => n.id === 'lambda1').config;
  const group = async (id, help) => {
    const g = page.getByTestId(`group-${id}`);
    await g.locator('summary').first().click();
    await expectText(g, help, `the ${id} group's help`);
    return g;
  };
  // streaming: its two fields appear in the Output group once ResponseStream is chosen
  assert.equal(await page.locator('[id^="cfg__streamOutput"]').count(), 0, 'no stream fields for RequestResponse');
  await page.locator('#cfg__invocationType-3').check();
  const output = await group('output', 'the chunks are joined');
  await expectText(output, 'Max response (bytes)', 'the maxResponseBytes field');
  await output.locator('#cfg__streamOutput-1').check();
  await shot(page, 'sheet-streaming');
  await group('routing', 'lambda.functionName and lambda.qualifier properties choose the function');
  await group('invocation-options', 'context.clientContext.custom');
  const concurrency = await group('concurrency', 'the limit follows throttling');
  await concurrency.locator('#cfg__concurrency__mode-1').check();
  await concurrency.locator('#cfg__concurrency__max').fill('16');
  await shot(page, 'sheet-adaptive-concurrency');
  await page.getByTestId('save').click();
  await waitFor('saved', async () => (await page.getByTestId('save-state').textContent()) === 'saved');
  const saved = (await serverFlow()).nodes.find((n) => n.id === 'lambda1').config;
  assert.deepEqual(saved, {
    ...before,
    invocationType: 'ResponseStream',
    streamOutput: 'chunks',
    concurrency: { mode: 'adaptive', max: 16 },
  }, 'only what the user set: no default of a field a choice revealed');
});

test('no unexpected console errors along the way', () => {
  const expected = [
    [422, `/api/flows/${FLOW_ID}`], // the refused maxConcurrency, on purpose
  ];
  assert.deepEqual(unexpectedProblems(browser.problems, expected), [], `HTTP errors seen: ${browser.httpErrors.join(', ')}`);
});
