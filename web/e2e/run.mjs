#!/usr/bin/env node
// `npm run e2e`: runs the designer's end-to-end suite in headless Chromium against a real
// `lambdaflow serve` and the demo Lambda functions.
//
// Environment:
//   LAMBDAFLOW_BIN   the server binary (default: $CARGO_TARGET_DIR or ../target, debug/lambdaflow)
//   LAMBDA_ENDPOINT  a running Lambda emulator; when unset, scripts/lambda-emulator.sh is started
//                    on a free port and stopped afterwards
//   CHROMIUM_PATH    default /usr/bin/chromium (Debian's `chromium` package)
//
// The server serves the designer it was built with: run `npm run build` before building it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { FatalError, freePort, resultsDir, sleep, startProcess, waitFor, webDir } from './harness.mjs';

// this run's screenshots only
mkdirSync(resultsDir, { recursive: true });
for (const f of readdirSync(resultsDir)) if (f.endsWith('.png')) rmSync(path.join(resultsDir, f));

const root = path.resolve(webDir, '..');

function fail(message) {
  console.error(`e2e: ${message}`);
  process.exit(1);
}

function defaultBin() {
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(root, 'target')].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, 'debug', 'lambdaflow');
    if (existsSync(p)) return p;
  }
  return null;
}

const bin = process.env.LAMBDAFLOW_BIN || defaultBin();
if (!bin || !existsSync(bin)) {
  fail(`no server binary: set LAMBDAFLOW_BIN (tried ${process.env.LAMBDAFLOW_BIN ?? 'target/debug/lambdaflow'}); build it with cargo build`);
}
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath}: apt-get install -y chromium`);
if (!existsSync(path.join(webDir, 'dist', 'index.html'))) fail('web/dist is missing: npm run build (then rebuild the server so it embeds it)');

let emulator = null;
let endpoint = process.env.LAMBDA_ENDPOINT;

async function probeHello(url) {
  const res = await fetch(`${url}/2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{"name":"probe"}' });
  return res.ok;
}

if (!endpoint) {
  const script = path.join(root, 'scripts', 'lambda-emulator.sh');
  if (!existsSync(script)) fail(`LAMBDA_ENDPOINT is unset and ${script} does not exist`);
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  console.error(`e2e: starting the Lambda emulator on ${endpoint} (first run builds functions/)`);
  emulator = startProcess('lambda-emulator', 'bash', [script, String(port), '--ignore-changes'], { cwd: root, detached: true });
  try {
    await waitFor(
      'the Lambda emulator to answer hello',
      async () => {
        if (emulator.exited) throw new FatalError(`emulator exited ${JSON.stringify(emulator.exited)}:\n${emulator.log().slice(-4000)}`);
        return probeHello(endpoint);
      },
      { timeoutMs: 15 * 60_000, intervalMs: 1000 },
    );
  } catch (e) {
    await stopEmulator();
    fail(e.message);
  }
} else {
  await waitFor('LAMBDA_ENDPOINT to answer hello', () => probeHello(endpoint), { timeoutMs: 60_000 }).catch((e) => fail(e.message));
}

// The demo's endpoint in front of the emulator (scripts/demo-lambda-proxy.py): invocations go
// through to it, and the function and qualifier listings the pickers ask for are answered.
const proxyPort = await freePort();
const functionNames = ['hello', 'echo', 'uppercase', 'fail', 'slow'];
const proxy = startProcess('demo-lambda-proxy', 'python3', [path.join(root, 'scripts', 'demo-lambda-proxy.py'), String(proxyPort), endpoint, ...functionNames]);
endpoint = `http://127.0.0.1:${proxyPort}`;
await waitFor(
  'the demo Lambda endpoint to list functions',
  async () => {
    if (proxy.exited) throw new FatalError(`demo-lambda-proxy exited ${JSON.stringify(proxy.exited)}:\n${proxy.log()}`);
    return (await fetch(`${endpoint}/2015-03-31/functions/`)).ok;
  },
  { timeoutMs: 30_000 },
).catch((e) => fail(e.message));

async function stopEmulator() {
  await proxy.stop();
  if (!emulator) return;
  // cargo lambda starts function processes of its own: stop the whole group we started
  try {
    process.kill(-emulator.child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  for (let i = 0; i < 50 && !emulator.exited; i++) await sleep(100);
  try {
    if (!emulator.exited) process.kill(-emulator.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await emulator.stop();
}

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['designer.test.mjs', 'workflow.test.mjs', 'routing.test.mjs', 'jetstream.test.mjs', 'workers.test.mjs'].map((f) => path.join(webDir, 'e2e', f));
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...process.env, LAMBDAFLOW_BIN: bin, LAMBDA_ENDPOINT: endpoint, CHROMIUM_PATH: chromiumPath },
  });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await stopEmulator();
process.exit(code);
