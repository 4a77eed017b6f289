// The designer, end to end, in real headless Chromium against a real `lambdaflow serve` and the
// demo Lambda functions under `cargo lambda watch`. Each step keeps a screenshot in test-results/.
//
// Run through `npm run e2e` (e2e/run.mjs), which starts the emulator and sets the environment.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { closeInspector, dragFromPalette, openNode, shot, startBrowser, startServer, unexpectedProblems, waitFor, wire } from './harness.mjs';

const FLOW_ID = 'e2e-hello';
const TIMEOUT = 60_000;

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

async function expectText(locator, text, what) {
  await waitFor(what, async () => ((await locator.textContent()) ?? '').includes(text), { timeoutMs: TIMEOUT });
}

async function expectSaved(p = page) {
  await waitFor('the flow to be saved', async () => (await p.getByTestId('save-state').textContent()) === 'saved', { timeoutMs: TIMEOUT });
}

test('the designer loads with its palette from the server and no console errors', async () => {
  await page.goto(server.url + '/');
  await page.getByRole('heading', { name: 'Design a flow' }).waitFor();
  for (const type of ['feeder', 'lambda', 'display']) await page.getByTestId(`palette-${type}`).waitFor();
  await shot(page, 'welcome');
  assert.deepEqual(unexpectedProblems(browser.problems), []);
});

test('build Feeder → LambdaConnector → Display by dragging from the palette and wiring handles', async () => {
  await page.getByTestId('new-flow-name').fill('E2E hello');
  await page.getByTestId('new-flow-id').fill(FLOW_ID);
  await page.getByTestId('new-flow-create').click();
  const empty = page.getByTestId('canvas-empty');
  await empty.waitFor();
  assert.match(await empty.textContent(), /Drag a Feeder, a LambdaConnector and a Display here/);
  await shot(page, 'empty-canvas');

  await dragFromPalette(page, 'feeder', 180, 220);
  await page.getByTestId('node-feeder1').waitFor();
  await dragFromPalette(page, 'lambda', 500, 220);
  await page.getByTestId('node-lambda1').waitFor();
  await dragFromPalette(page, 'display', 820, 160);
  await page.getByTestId('node-display1').waitFor();
  await shot(page, 'dropped-three-components');

  await wire(page, 'feeder1', 'out', 'lambda1', 'in');
  await wire(page, 'lambda1', 'out', 'display1', 'in');
  await waitFor('two routes on the canvas', async () => (await page.locator('.react-flow__edge').count()) === 2);
  // an input cannot be wired to an input
  await wire(page, 'display1', 'in', 'lambda1', 'in');
  assert.equal(await page.locator('.react-flow__edge').count(), 2);
  await shot(page, 'wired');
});

test('set the function "hello" in the property sheet and save', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  const fn = page.locator('#cfg__functionName');
  await fn.fill('hello');
  await shot(page, 'property-sheet-hello');
  await page.getByTestId('save').click();
  await expectSaved();
  // the server has it, as the designer drew it
  const res = await fetch(`${server.url}/api/flows/${FLOW_ID}`);
  assert.equal(res.status, 200);
  const flow = await res.json();
  assert.deepEqual(
    flow.nodes.map((n) => [n.id, n.type]),
    [
      ['feeder1', 'feeder'],
      ['lambda1', 'lambda'],
      ['display1', 'display'],
    ],
  );
  assert.equal(flow.nodes[1].config.functionName, 'hello');
  assert.deepEqual(
    flow.edges.map((e) => [e.id, `${e.from.node}.${e.from.port}`, `${e.to.node}.${e.to.port}`]),
    [
      ['route1', 'feeder1.out', 'lambda1.in'],
      ['route2', 'lambda1.out', 'display1.in'],
    ],
  );
  await shot(page, 'saved');
});

test('deploy, send {"name": "World"} from the Feeder panel and see the greeting in the Display', async () => {
  await page.getByTestId('deploy').click();
  await expectText(page.getByTestId('flow-state'), 'running', 'the flow to run');
  await expectText(page.getByTestId('status-lambda1'), 'running', 'lambda1 to show running');
  await shot(page, 'started');

  await openNode(page, 'feeder1');
  await page.getByTestId('tab-run').click();
  await page.getByTestId('feeder-body').fill('{"name": "World"}');
  await expectText(page.getByTestId('feeder-json-state'), 'Valid JSON', 'the JSON check');
  await page.getByTestId('feeder-send').click();
  await expectText(page.getByTestId('feeder-notice'), 'Sent 1 message', 'the send to be accepted');
  await shot(page, 'feeder-sent');

  await openNode(page, 'display1');
  await page.getByTestId('tab-run').click();
  await expectText(page.getByTestId('display-panel'), 'Hello, World!', 'the greeting in the Display');
  await expectText(page.getByTestId('node-display1'), 'Hello, World!', 'the greeting on the Display card');
  await expectText(page.getByTestId('received-display1'), '1', 'the Display counter');
  await shot(page, 'display-hello-world');
});

test('wire the error port to a second Display and see the error record when invoking "fail"', async () => {
  await page.getByTestId('stop').click();
  await expectText(page.getByTestId('flow-state'), 'stopped', 'the flow to stop');

  await dragFromPalette(page, 'display', 820, 420);
  await page.getByTestId('node-display2').waitFor();
  await openNode(page, 'display2'); // a drop does not open the sheet: selecting does
  await page.getByTestId('node-name').fill('Errors');
  await wire(page, 'lambda1', 'error', 'display2', 'in');
  await waitFor('the error route', async () => (await page.locator('.react-flow__edge.edge-error').count()) === 1);

  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  await page.locator('#cfg__functionName').fill('fail');
  await shot(page, 'error-port-wired');

  await page.getByTestId('deploy').click(); // saves, then starts
  await expectText(page.getByTestId('flow-state'), 'running', 'the flow to run again');

  await openNode(page, 'feeder1');
  await page.getByTestId('tab-run').click();
  await page.getByTestId('feeder-body').fill('{"name": "World"}');
  await page.getByTestId('feeder-send').click();
  await expectText(page.getByTestId('feeder-notice'), 'Sent 1 message', 'the send to be accepted');

  await openNode(page, 'display2');
  await page.getByTestId('tab-run').click();
  const panel = page.getByTestId('display-panel');
  await expectText(panel, 'error record', 'the error record in the second Display');
  const body = await panel.getByTestId('message-body').textContent();
  const record = JSON.parse(body);
  assert.equal(record.component.node, 'lambda1');
  assert.equal(record.error.type, 'requestProcessing');
  assert.equal(record.requestContext.functionName, 'fail');
  await expectText(page.getByTestId('errors-lambda1'), '1', 'the error counter on the LambdaConnector card');
  await shot(page, 'display-error-record');

  await page.getByTestId('stop').click();
  await expectText(page.getByTestId('flow-state'), 'stopped', 'the flow to stop');
});

test('a schema violation is shown on its field and on the node', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  const field = page.locator('#cfg__maxConcurrency');
  await page.getByTestId('group-concurrency').locator('summary').click(); // an advanced group, collapsed
  await field.fill('-1');
  await page.getByTestId('save').click();
  const issues = page.getByTestId('sheet-issues');
  await issues.waitFor();
  assert.match(await issues.textContent(), /Max concurrency/i); // the field's title, not its pointer
  // the server's message sits under the field itself
  const group = page.locator('.form-group', { has: field }).last();
  const serverMessage = (await issues.locator('li').first().textContent()).replace(/^.*?: /, '').trim();
  await expectText(group, serverMessage, 'the server error under the Max concurrency field');
  await expectText(page.getByTestId('node-lambda1'), '1 problem', 'the node card to be marked invalid');
  assert.match(await page.getByTestId('node-lambda1').getAttribute('class'), /is-invalid/);
  await shot(page, 'schema-violation');

  // fixing the field clears the mark; the flow saves again
  await field.fill('2');
  await page.getByTestId('save').click();
  await expectSaved();
  assert.doesNotMatch(await page.getByTestId('node-lambda1').getAttribute('class'), /is-invalid/);
});

test('saving over someone else’s change offers reload or overwrite', async () => {
  const other = await browser.context.newPage();
  await other.goto(`${server.url}/#/flow/${FLOW_ID}`);
  await other.getByTestId('node-display1').waitFor();
  await other.getByTestId('flow-name').fill('Changed elsewhere');
  await other.getByTestId('save').click();
  await expectSaved(other);
  await other.close();

  await page.getByTestId('flow-name').fill('E2E hello (mine)');
  await page.getByTestId('save').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /changed on the server since you opened it/);
  await shot(page, 'conflict');
  await page.getByTestId('conflict-overwrite').click();
  await expectSaved();
  const flow = await (await fetch(`${server.url}/api/flows/${FLOW_ID}`)).json();
  assert.equal(flow.name, 'E2E hello (mine)');
});

test('export downloads the flow as JSON without secrets', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  const text = await readFile(await download.path(), 'utf8');
  const flow = JSON.parse(text);
  assert.equal(flow.id, FLOW_ID);
  assert.equal(flow.rev, undefined);
  assert.equal(flow.nodes.length, 4);
  assert.ok(!text.includes('secretsSet'));
});

test('the Test button runs the LambdaConnector once and shows what reached out and error', async () => {
  await openNode(page, 'lambda1');
  await page.getByTestId('tab-properties').click();
  await page.locator('#cfg__functionName').fill('hello');
  // the LambdaConnector's Test panel is open at the top of its sheet
  await page.getByTestId('test-body').fill('{"name": "Tester"}');
  await page.getByTestId('test-run').click();
  const results = page.getByTestId('test-results');
  await expectText(results, 'Hello, Tester!', 'the test result on out');
  await expectText(results, 'Nothing reached error.', 'an empty error list');
  await results.scrollIntoViewIfNeeded();
  await shot(page, 'test-button');

  await page.locator('#cfg__functionName').fill('fail');
  await page.getByTestId('test-run').click();
  await expectText(results, 'error record', 'the failure on error');
  await expectText(results, 'Nothing reached out.', 'an empty out list');
  await results.scrollIntoViewIfNeeded();
  await shot(page, 'test-button-fail');
});

test('dark mode follows the system', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openNode(page, 'display2');
  await page.getByTestId('tab-run').click();
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(15, 18, 22)');
  await shot(page, 'dark-mode');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('keyboard: add from the palette, delete with the Delete key, undo and redo', async () => {
  // an unsaved change: leaving the flow asks first
  await page.getByTestId('flow-name').fill('E2E hello (unsaved)');
  assert.equal(await page.getByTestId('save-state').textContent(), '● unsaved changes');
  await page.getByTestId('new-flow').click();
  await page.getByTestId('new-flow-name').fill('E2E keys');
  await page.getByTestId('new-flow-create').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Discard unsaved changes\?/);
  await dialog.getByRole('button', { name: /Discard and create a new flow/ }).click();
  await page.getByTestId('canvas-empty').waitFor();
  await page.getByTestId('palette-display').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('node-display1').waitFor();
  await closeInspector(page);
  // focus the node the way a keyboard user does, select it, delete it
  await page.locator('.react-flow__node[data-id="display1"]').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('inspector').waitFor();
  await page.locator('.react-flow__node[data-id="display1"]').focus();
  await page.keyboard.press('Delete');
  await page.getByTestId('node-display1').waitFor({ state: 'detached' });
  await page.keyboard.press('Control+z');
  await page.getByTestId('node-display1').waitFor();
  await page.keyboard.press('Control+Shift+z');
  await page.getByTestId('node-display1').waitFor({ state: 'detached' });
  await shot(page, 'keyboard-undo-redo');
});

test('no unexpected console errors along the way', () => {
  const expected = [
    [422, `/api/flows/${FLOW_ID}`], // the schema violation, on purpose
    [412, `/api/flows/${FLOW_ID}`], // the conflict, on purpose
    [409, `/api/flows/${FLOW_ID}`],
    // the function picker asks for ListFunctions, which `cargo lambda watch` does not have: the
    // server answers 502 (docs/api.md) and the user types the name
    [502, '/api/lambda/'],
  ];
  assert.deepEqual(unexpectedProblems(browser.problems, expected), [], `HTTP errors seen: ${browser.httpErrors.join(', ')}`);
});
