// Headless Chromium against the browser example (examples/browser.rs): the generated client.mjs
// runs in a real page, talks to the real Rust main over its WebSocket endpoint, and the endpoint
// refuses wrong tokens and foreign origins. The example's HTTP server hands the page (and the
// token in it) only to requests addressed to its own Host, and survives running out of file
// descriptors.
//
// Builds nothing: the example binary comes from IPC_BROWSER_EXAMPLE (default
// ../../target/debug/examples/browser). The browser is the system Chromium (CHROMIUM, default
// /usr/bin/chromium), driven by playwright-core, which never downloads browsers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(here, process.env.IPC_BROWSER_EXAMPLE || '../../target/debug/examples/browser');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.IPC_BROWSER_SCREENSHOT || '/tmp/browser-example.png';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let example; // the child process
let exampleOutput = '';
let PAGE; // http://127.0.0.1:<port>/
let WS; // ws://127.0.0.1:<port>/ipc?token=<token>
let ORIGIN; // http://127.0.0.1:<port>
let userDataDir;
let context; // persistent context on a fresh user-data-dir
let page;
let foreign; // a second HTTP server, on another port: another origin
let FOREIGN;
const pageErrors = []; // uncaught errors in the example's page

/** Starts the example and resolves once it has printed PAGE= and WS=. */
function startExample() {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(EXAMPLE)) {
      reject(new Error(`no example binary at ${EXAMPLE} (cargo build --example browser; set IPC_BROWSER_EXAMPLE)`));
      return;
    }
    example = spawn(EXAMPLE, ['--exit-after', '120'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const found = {};
    const timer = setTimeout(() => reject(new Error(`the example printed no PAGE=/WS= within 20 s:\n${exampleOutput}`)), 20000);
    let buffered = '';
    example.stdout.setEncoding('utf8');
    example.stderr.setEncoding('utf8');
    example.stderr.on('data', (chunk) => { exampleOutput += chunk; });
    example.stdout.on('data', (chunk) => {
      exampleOutput += chunk;
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const match = /^(PAGE|WS)=(\S+)$/.exec(line);
        if (match) found[match[1]] = match[2];
        if (found.PAGE && found.WS) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
    example.on('error', (error) => { clearTimeout(timer); reject(error); });
    example.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the example exited early (code ${code}, signal ${signal}):\n${exampleOutput}`));
    });
  });
}

function stopExample() {
  if (!example || example.exitCode !== null || example.signalCode !== null) return;
  example.kill('SIGTERM');
  const child = example;
  setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, 2000).unref();
}

// Never leave the example behind, whatever happens to this process.
process.on('exit', () => {
  if (example && example.exitCode === null && example.signalCode === null) example.kill('SIGKILL');
});

/** A raw HTTP upgrade request to the WebSocket endpoint; resolves to the response status. */
function upgradeStatus(url, origin) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    };
    if (origin !== undefined) headers.Origin = origin;
    const request = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      headers,
      timeout: 5000,
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy(new Error('upgrade request timed out')));
    request.on('error', reject);
    request.end();
  });
}

/**
 * Sends `head` (a whole request head, CRLFs included) to 127.0.0.1:`port` over a raw socket, so
 * that every header is exactly as given; resolves to { status, body } once the server closes.
 */
function rawRequest(port, head) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('connect', () => socket.write(head));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      resolve({ status: match ? Number(match[1]) : null, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** Starts another instance of the example under `sh -c "ulimit -n <fds>"`; resolves to { child, page, output() }. */
function startLimitedExample(fds) {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `ulimit -n ${fds} && exec "$0" --exit-after 60`, EXAMPLE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the limited example printed no PAGE= within 20 s:\n${output}`)), 20000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /^PAGE=(\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, page: match[1], output: () => output });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the limited example exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });
}

function withToken(url, token) {
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.href;
}

/** Page-side: opens a raw WebSocket and reports which events fired (resolves on close). */
function rawSocketAttempt(target, url) {
  return target.evaluate((url) => new Promise((resolve) => {
    const seen = [];
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      resolve({ seen: ['throw'], message: String(error) });
      return;
    }
    const timer = setTimeout(() => resolve({ seen, timedOut: true }), 8000);
    socket.onopen = () => { seen.push('open'); socket.close(); };
    socket.onerror = () => { seen.push('error'); };
    socket.onclose = (event) => {
      seen.push('close');
      clearTimeout(timer);
      resolve({ seen, code: event.code });
    };
  }), url);
}

/** Page-side: connect() with the served client.mjs; reports how it settled. */
function clientAttempt(target, url) {
  return target.evaluate(async (url) => {
    const { connect, close, IpcFrameworkError } = await import('/client.mjs');
    try {
      const api = await connect(url, { label: 'intruder' });
      close(api);
      return { connected: true };
    } catch (error) {
      return {
        connected: false,
        framework: error instanceof IpcFrameworkError,
        code: error.code,
        message: error.message,
      };
    }
  }, url);
}

before(async () => {
  const found = await startExample();
  PAGE = found.PAGE;
  WS = found.WS;
  ORIGIN = new URL(PAGE).origin;

  // The "other origin": same host, another port, serving a blank page and a copy of client.mjs
  // (module scripts need CORS across origins, so it serves its own copy).
  const clientSource = await (await fetch(new URL('/client.mjs', PAGE))).text();
  foreign = http.createServer((request, response) => {
    if (request.url === '/client.mjs') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      response.end(clientSource);
    } else {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>elsewhere</title><p>another origin</p>');
    }
  });
  await new Promise((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  FOREIGN = `http://127.0.0.1:${foreign.address().port}/`;

  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-chromium-'));
  // launchPersistentContext is how playwright takes a --user-data-dir of our choosing.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 800, height: 600 },
    timeout: 60000,
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (error) => {
    pageErrors.push(String(error));
    exampleOutput += `[pageerror] ${error}\n`;
  });
  page.on('console', (message) => { exampleOutput += `[console.${message.type()}] ${message.text()}\n`; });
  await page.goto(PAGE);
  await page.waitForFunction(() => window.ready === true || typeof window.failure === 'string', null, { timeout: 15000 });
  const failure = await page.evaluate(() => window.failure);
  assert.equal(failure, undefined, `the page failed to connect: ${failure}`);
});

after(async () => {
  try {
    if (context) await context.close();
  } finally {
    if (foreign) foreign.close();
    stopExample();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    if (process.env.IPC_BROWSER_VERBOSE) console.log(exampleOutput);
  }
});

test('the page connected and shows its status', async () => {
  // 'connected', unless an announce from main (the answer to its question, or the time every
  // 5 s) has already replaced it.
  assert.match(await page.textContent('#status'), /^(connected|main has been up for \d+s|main asked and you said yes)$/);
  assert.equal(await page.title(), 'typed-ipc: todos in the browser');
});

test('typed calls: add, list, toggle', async () => {
  const result = await page.evaluate(async () => {
    const first = await window.todos.add('buy milk');
    const second = await window.todos.add('write the browser test');
    const list = await window.todos.list();
    const toggled = await window.todos.toggle(first.id);
    const again = await window.todos.list();
    return { first, second, list, toggled, again };
  });
  assert.deepEqual(result.first, { id: 1, title: 'buy milk', done: false });
  assert.deepEqual(result.second, { id: 2, title: 'write the browser test', done: false });
  assert.deepEqual(result.list, [result.first, result.second]);
  assert.deepEqual(result.toggled, { id: 1, title: 'buy milk', done: true });
  assert.deepEqual(result.again, [result.toggled, result.second]);
});

test('changed events reach the page and its DOM list', async () => {
  // Two adds and one toggle so far: three `changed` events.
  await page.waitForFunction(() => window.events.length >= 3, null, { timeout: 5000 });
  const events = await page.evaluate(() => window.events);
  assert.deepEqual(events.slice(0, 3), [
    { id: 1, title: 'buy milk', done: false },
    { id: 2, title: 'write the browser test', done: false },
    { id: 1, title: 'buy milk', done: true },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('#list li').length >= 2, null, { timeout: 5000 });
  const items = await page.$$eval('#list li', (lis) => lis.map((li) => ({ text: li.textContent, done: li.className === 'done' })));
  assert.deepEqual(items.slice(0, 2), [
    { text: '#1 buy milk', done: true },
    { text: '#2 write the browser test', done: false },
  ]);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('the form adds a todo through the typed API', async () => {
  await page.fill('#title', 'typed into the form');
  await page.click('#add button');
  await page.waitForFunction(() => [...document.querySelectorAll('#list li')].some((li) => li.textContent === '#3 typed into the form'), null, { timeout: 5000 });
  assert.equal(await page.inputValue('#title'), '');
  // Clicking an item toggles it (through todos.toggle and the changed event).
  await page.click('#list li:nth-child(3)');
  await page.waitForFunction(() => document.querySelector('#list li:nth-child(3)').className === 'done', null, { timeout: 5000 });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('an application error is an IpcAppError with typed .data', async () => {
  const result = await page.evaluate(async () => {
    try {
      await window.todos.toggle(999);
      return { resolved: true };
    } catch (error) {
      return {
        app: error instanceof window.IpcAppError,
        framework: error instanceof window.IpcFrameworkError,
        error: error instanceof Error,
        name: error.name,
        channel: error.channel,
        data: error.data,
        message: error.message,
      };
    }
  });
  assert.equal(result.resolved, undefined, 'toggle(999) resolved');
  assert.equal(result.app, true);
  assert.equal(result.framework, false);
  assert.equal(result.error, true);
  assert.equal(result.name, 'IpcAppError');
  assert.deepEqual(result.data, { kind: 'NotFound', id: 999 });
  assert.match(result.channel, /toggle/);
});

test('a panicking handler is an IpcFrameworkError handler_panicked, and main keeps serving', async () => {
  const result = await page.evaluate(async () => {
    let outcome;
    try {
      outcome = { resolved: await window.todos.crash() };
    } catch (error) {
      outcome = {
        framework: error instanceof window.IpcFrameworkError,
        app: error instanceof window.IpcAppError,
        code: error.code,
        message: error.message,
      };
    }
    outcome.afterwards = (await window.todos.list()).length;
    return outcome;
  });
  assert.equal(result.resolved, undefined);
  assert.equal(result.framework, true);
  assert.equal(result.app, false);
  assert.equal(result.code, 'handler_panicked');
  assert.equal(result.afterwards, 3);
});

test('wrong argument types throw a TypeError before anything crosses', async () => {
  const result = await page.evaluate(async () => {
    const before = await window.todos.stats();
    const attempts = {
      addNumber: () => window.todos.add(42),
      toggleString: () => window.todos.toggle('1'),
      toggleFraction: () => window.todos.toggle(1.5),
      toggleNegative: () => window.todos.toggle(-1),
      addMissing: () => window.todos.add(),
      addExtra: () => window.todos.add('a', 'b', 'c'),
      logNumber: () => window.todos.log(7),
      onChangedNotFunction: () => window.todos.onChanged('nope'),
    };
    const outcomes = {};
    for (const [name, attempt] of Object.entries(attempts)) {
      try {
        const value = attempt();
        outcomes[name] = { returned: value instanceof Promise ? 'promise' : String(value) };
        if (value instanceof Promise) value.catch(() => {});
      } catch (error) {
        outcomes[name] = { type: error.constructor.name, message: error.message };
      }
    }
    const afterwards = await window.todos.stats();
    const list = await window.todos.list();
    return { before, afterwards, outcomes, count: list.length };
  });
  for (const [name, outcome] of Object.entries(result.outcomes)) {
    assert.equal(outcome.type, 'TypeError', `${name}: ${JSON.stringify(outcome)}`);
  }
  // Nothing reached main: no invoke served between the two stats calls (stats itself is not
  // counted), no log line, no new todo.
  assert.equal(result.afterwards.calls, result.before.calls);
  assert.deepEqual(result.afterwards.logs, result.before.logs);
  assert.equal(result.count, 3);
});

test('a send arrives in main', async () => {
  const logs = await page.evaluate(async () => {
    window.todos.log('hello from chromium');
    // A send has no reply; a following invoke on the same connection is served after it.
    for (let i = 0; i < 50; i++) {
      const { logs } = await window.todos.stats();
      if (logs.includes('hello from chromium')) return logs;
      await new Promise((r) => setTimeout(r, 20));
    }
    return (await window.todos.stats()).logs;
  });
  assert.ok(logs.includes('hello from chromium'), JSON.stringify(logs));
});

test('an AbortSignal cancels a slow call promptly, and main drops the handler', async () => {
  const result = await page.evaluate(async () => {
    const before = (await window.todos.stats()).cancelled;
    const controller = new AbortController();
    const started = performance.now();
    const call = window.todos.slow(10000, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    let outcome;
    try {
      outcome = { resolved: await call };
    } catch (error) {
      outcome = {
        framework: error instanceof window.IpcFrameworkError,
        code: error.code,
        message: error.message,
      };
    }
    outcome.elapsed = performance.now() - started;
    // The cancel frame makes main drop the handler: its probe counts it.
    let cancelled = (await window.todos.stats()).cancelled;
    for (let i = 0; i < 100 && cancelled === before; i++) {
      await new Promise((r) => setTimeout(r, 20));
      cancelled = (await window.todos.stats()).cancelled;
    }
    outcome.cancelledInMain = cancelled - before;
    // An already-aborted signal rejects without sending.
    try {
      await window.todos.slow(10000, { signal: AbortSignal.abort() });
      outcome.preAborted = 'resolved';
    } catch (error) {
      outcome.preAborted = error.code;
    }
    return outcome;
  });
  assert.equal(result.resolved, undefined);
  assert.equal(result.framework, true);
  assert.equal(result.code, 'cancelled');
  assert.ok(result.elapsed < 2000, `the abort took ${result.elapsed} ms to reject`);
  assert.equal(result.cancelledInMain, 1);
  assert.equal(result.preAborted, 'cancelled');
});

test('a disposer from onChanged stops delivery to that listener only', async () => {
  const result = await page.evaluate(async () => {
    const mine = [];
    const dispose = window.todos.onChanged((todo) => mine.push(todo.id));
    const waitForPageEvent = async (id) => {
      // The page's own listener stays subscribed: once it has seen `id`, so would ours have.
      for (let i = 0; i < 250; i++) {
        if (window.events.some((todo) => todo.id === id)) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    const a = await window.todos.add('seen by the extra listener');
    const seenA = await waitForPageEvent(a.id);
    const beforeDispose = mine.slice();
    dispose();
    dispose(); // idempotent
    const b = await window.todos.add('not seen by the extra listener');
    const seenB = await waitForPageEvent(b.id);
    await new Promise((r) => setTimeout(r, 100));
    return { a: a.id, b: b.id, seenA, seenB, beforeDispose, mine };
  });
  assert.ok(result.seenA && result.seenB, 'the page did not receive its changed events');
  assert.deepEqual(result.beforeDispose, [result.a]);
  assert.deepEqual(result.mine, [result.a]);
});

test('from the page: the right URL opens (control), a wrong token never opens', async () => {
  const control = await rawSocketAttempt(page, WS);
  assert.deepEqual(control.seen, ['open', 'close'], JSON.stringify(control));
  const controlClient = await clientAttempt(page, WS);
  assert.equal(controlClient.connected, true, JSON.stringify(controlClient));

  const wrong = withToken(WS, '0'.repeat(32));
  const raw = await rawSocketAttempt(page, wrong);
  assert.ok(!raw.seen.includes('open'), JSON.stringify(raw));
  assert.ok(raw.seen.includes('close') || raw.seen.includes('error'), JSON.stringify(raw));
  assert.notEqual(raw.timedOut, true);
  const viaClient = await clientAttempt(page, wrong);
  assert.equal(viaClient.connected, false);
  assert.equal(viaClient.framework, true);
  assert.equal(viaClient.code, 'disconnected');
  // The page's own connection is unaffected.
  assert.equal((await page.evaluate(() => window.todos.list())).length, 5);
});

test('from another origin: the right token never opens', async () => {
  const other = await context.newPage();
  try {
    await other.goto(FOREIGN);
    assert.notEqual(new URL(FOREIGN).origin, ORIGIN);
    const raw = await rawSocketAttempt(other, WS);
    assert.ok(!raw.seen.includes('open'), JSON.stringify(raw));
    assert.ok(raw.seen.includes('close') || raw.seen.includes('error'), JSON.stringify(raw));
    assert.notEqual(raw.timedOut, true);
    const viaClient = await clientAttempt(other, WS);
    assert.equal(viaClient.connected, false, JSON.stringify(viaClient));
    assert.equal(viaClient.framework, true);
    assert.equal(viaClient.code, 'disconnected');

    // about:blank (an opaque origin: Chromium sends `Origin: null`) is refused too.
    await other.goto('about:blank');
    const blank = await rawSocketAttempt(other, WS);
    assert.ok(!blank.seen.includes('open'), JSON.stringify(blank));
    assert.notEqual(blank.timedOut, true);
  } finally {
    await other.close();
  }
});

test('raw HTTP upgrades from Node: 403 unless token and Origin are right', async () => {
  const wrongToken = withToken(WS, 'f'.repeat(32));
  assert.equal(await upgradeStatus(wrongToken, ORIGIN), 403, 'wrong token');
  assert.equal(await upgradeStatus(withToken(WS, ''), ORIGIN), 403, 'empty token');
  const noToken = new URL(WS);
  noToken.search = '';
  assert.equal(await upgradeStatus(noToken.href, ORIGIN), 403, 'no token');
  assert.equal(await upgradeStatus(WS, new URL(FOREIGN).origin), 403, 'wrong Origin');
  assert.equal(await upgradeStatus(WS, 'null'), 403, 'Origin: null');
  assert.equal(await upgradeStatus(WS, ORIGIN.replace('127.0.0.1', 'localhost')), 403, 'Origin by another name');
  assert.equal(await upgradeStatus(WS, undefined), 403, 'no Origin');
  const wrongPath = new URL(WS);
  wrongPath.pathname = '/other';
  assert.equal(await upgradeStatus(wrongPath.href, ORIGIN), 403, 'wrong path');
  assert.equal(await upgradeStatus(WS, ORIGIN), 101, 'right token and Origin');
});

test('the page and its token go only to requests addressed to this server (no DNS rebinding)', async () => {
  const port = Number(new URL(PAGE).port);
  const token = new URL(WS).searchParams.get('token');
  assert.match(token, /^[0-9a-f]{32}$/);
  const get = (path, hostLines) => rawRequest(port, `GET ${path} HTTP/1.1\r\n${hostLines.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`);

  // Control: the server's own names get the page, token included.
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`]) {
    const ours = await get('/', [`Host: ${host}`]);
    assert.equal(ours.status, 200, host);
    assert.ok(ours.body.includes(token), `the page served to ${host} holds the token`);
  }
  assert.equal((await get('/client.mjs', [`host:  127.0.0.1:${port} `])).status, 200, 'header names and spaces are lenient');

  // A page on evil.example whose name was rebound to 127.0.0.1 sends its own name as Host.
  const refused = [
    ['a rebound name with the port', [`Host: evil.example:${port}`]],
    ['a rebound name without a port', ['Host: evil.example']],
    ['loopback with another port', [`Host: 127.0.0.1:${port + 1}`]],
    ['loopback without the port', ['Host: 127.0.0.1']],
    ['another loopback address', [`Host: 127.0.0.2:${port}`]],
    ['a name that ends like ours', [`Host: evil.localhost:${port}`]],
    ['no Host at all', []],
    ['two Host headers', [`Host: 127.0.0.1:${port}`, `Host: evil.example:${port}`]],
  ];
  for (const [what, hostLines] of refused) {
    for (const path of ['/', '/client.mjs']) {
      const answer = await get(path, hostLines);
      assert.equal(answer.status, 421, `${what} (${path})`);
      assert.ok(!answer.body.includes(token), `${what}: no token in the refusal`);
      assert.match(answer.body, /answers only to Host 127\.0\.0\.1:\d+ or localhost:\d+/);
    }
  }
  // Node's own client, as a local tool would use it, with a foreign Host.
  const viaNode = await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', headers: { Host: 'rebind.example' } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
  assert.equal(viaNode, 421);

  // The page itself still loads and works.
  const fromPage = await page.evaluate(async () => {
    const response = await fetch('/', { cache: 'no-store' });
    return { status: response.status, list: (await window.todos.list()).length };
  });
  assert.deepEqual(fromPage, { status: 200, list: 5 });
});

test('the HTTP server backs off and goes on when it runs out of file descriptors', async () => {
  const limited = await startLimitedExample(40);
  const sockets = [];
  try {
    const port = Number(new URL(limited.page).port);
    // Idle connections each hold a descriptor in the server (it waits for their request) until
    // none is left: accept fails with EMFILE.
    for (let i = 0; i < 60; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
    }
    const alive = () => limited.child.exitCode === null && limited.child.signalCode === null;
    const deadline = Date.now() + 10000;
    while (alive() && !/accept failed/.test(limited.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive()) await new Promise((r) => setTimeout(r, 500));
    assert.ok(alive(), `the example exited when it ran out of file descriptors:\n${limited.output()}`);
    assert.match(limited.output(), /http: accept failed: .*(Too many open files|os error 24)/, limited.output());

    // Once the connections close, it serves again.
    for (const socket of sockets) socket.destroy();
    let answer = null;
    for (let attempt = 0; attempt < 50 && (answer === null || answer.status !== 200); attempt++) {
      answer = await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`).catch(() => null);
      if (answer === null || answer.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answer && answer.status, 200, limited.output());
    assert.match(limited.output(), /http: accepting again after \d+ failed accepts/);
    assert.equal(limited.child.exitCode, null);
  } finally {
    for (const socket of sockets) socket.destroy();
    limited.child.kill('SIGKILL');
  }
});

test('announce events broadcast by main reach the page', async () => {
  const message = await page.evaluate(() => new Promise((resolve) => {
    const timer = setTimeout(() => { dispose(); resolve(null); }, 8000);
    const dispose = window.todos.onAnnounce((text) => {
      clearTimeout(timer);
      dispose();
      resolve(text);
    });
  }));
  assert.match(message ?? 'no announce within 8 s', /^main has been up for \d+s$/);
  await page.waitForFunction(() => /^main has been up for/.test(document.getElementById('status').textContent), null, { timeout: 2000 });
});

test('main still serves the page after the refusals', async () => {
  const list = await page.evaluate(() => window.todos.list());
  assert.equal(list.length, 5);
  // Every invoke main served came from the page's own origin (Caller::origin over WebSocket).
  const stats = await page.evaluate(() => window.todos.stats());
  if (Array.isArray(stats.origins)) assert.deepEqual(stats.origins, [ORIGIN]);
  assert.equal(await page.evaluate(() => window.ready), true);
  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
});

test('the generated client refuses what cannot be sent, whichever realm of the page made it', async () => {
  // The golden `notes` bindings (schema/tests/golden/notes), whose parameters take nested data,
  // served next to the example's page and talking to a scripted server in the page.
  const golden = path.resolve(here, '..', '..', 'schema', 'tests', 'golden', 'notes');
  const source = fs.readFileSync(path.join(golden, 'client.mjs'), 'utf8');
  const { hash } = JSON.parse(fs.readFileSync(path.join(golden, 'schema.json'), 'utf8'));
  await page.route('**/__notes_client.mjs', (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: source }));
  try {
    const result = await page.evaluate(async (contracts) => {
      const { connect, close } = await import('/__notes_client.mjs');
      const sent = [];
      class ScriptedWebSocket {
        constructor() { setTimeout(() => this.onopen(), 0); }
        // The hello is JSON text; later frames are binary MessagePack maps whose first entry is
        // `t` (a fixstr): 0x8N, 0xa1 't', 0xaN, then the type's letters.
        send(data) {
          const frame = typeof data === 'string'
            ? JSON.parse(data)
            : { t: String.fromCharCode(...data.subarray(4, 4 + (data[3] & 0x1f))) };
          sent.push(frame.t);
          if (frame.t !== 'hello') return;
          const hello = { t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts, renderer: 1 };
          setTimeout(() => this.onmessage({ data: JSON.stringify(hello) }), 0);
        }
        close() {}
      }
      const notes = await connect('ws://unused.invalid/', { WebSocket: ScriptedWebSocket });
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const other = frame.contentWindow;
      const attempt = (call) => {
        try {
          const result = call();
          if (result && typeof result.catch === 'function') result.catch(() => {});
          return 'sent';
        } catch (error) {
          return `${error instanceof TypeError ? 'TypeError' : `${error.name} ${error.code}`}: ${error.message}`;
        }
      };
      const outcomes = {
        otherRealmObject: attempt(() => notes.put('k', other.JSON.parse('{"a": [1, {"b": null}]}'))),
        otherRealmArray: attempt(() => notes.record(other.Array.of(other.JSON.parse('{"title": "t", "tags": [], "extra": 1}')))),
        otherRealmMap: attempt(() => notes.put('k', { m: new other.Map() })),
        otherRealmFunction: attempt(() => notes.save({ title: 't', tags: [], extra: [new other.Function('return 1')] })),
        nestedWrongType: attempt(() => notes.record([{ title: 't', tags: ['a', 1], extra: null }])),
        variantWrongField: attempt(() => notes.mark({ kind: 'Label', text: 7 }, {})),
        element: attempt(() => notes.put('k', { element: document.body })),
        blob: attempt(() => notes.put('k', [new Blob(['x'])])),
        date: attempt(() => notes.save({ title: 't', tags: [], extra: new Date(0) })),
        bigint: attempt(() => notes.put('k', { n: 2n ** 64n })),
      };
      frame.remove();
      close(notes);
      outcomes.afterClose = attempt(() => notes.record([]));
      outcomes.sent = sent;
      return outcomes;
    }, { notes: hash });
    assert.equal(result.otherRealmObject, 'sent');
    assert.equal(result.otherRealmArray, 'sent');
    assert.equal(result.otherRealmMap, 'TypeError: notes.put: argument 2 (value).m is a Map, which cannot be sent');
    assert.equal(result.otherRealmFunction, 'TypeError: notes.save: argument 1 (note).extra[0] is a function, which cannot be sent');
    // The contract's types, checked all the way down before anything crosses.
    assert.equal(result.nestedWrongType, 'TypeError: notes.record: argument 1 (notes)[0].tags[1] must be a string, got the number 1');
    assert.equal(result.variantWrongField, 'TypeError: notes.mark: argument 1 (mark).text must be a string, got the number 7');
    assert.match(result.element, /^TypeError: notes\.put: argument 2 \(value\)\.element is a.* HTMLBodyElement, which cannot be sent$/);
    assert.equal(result.blob, 'TypeError: notes.put: argument 2 (value)[0] is a Blob, which cannot be sent');
    assert.equal(result.date, 'TypeError: notes.save: argument 1 (note).extra is a Date, which cannot be sent');
    assert.equal(result.bigint, 'TypeError: notes.put: argument 2 (value).n is a bigint beyond 64 bits, which cannot be sent');
    assert.match(result.afterClose, /^IpcFrameworkError disconnected: /);
    assert.deepEqual(result.sent, ['hello', 'invoke', 'send', 'goodbye']);
  } finally {
    await page.unroute('**/__notes_client.mjs');
  }
});

test('a 6 MiB title crosses the WebSocket both ways in chunks (needs the Rust side of chunking)', async () => {
  // Last: it adds a todo the counts of the tests above do not expect.
  const result = await page.evaluate(async () => {
    // Multi-byte characters, so that chunk boundaries fall inside them.
    const title = 'abcé€😀'.repeat((6 * 1024 * 1024) / 12);
    try {
      const todo = await window.todos.add(title);
      return { same: todo.title === title, length: todo.title.length };
    } catch (error) {
      return { code: error.code, message: error.message };
    }
  });
  assert.deepEqual(result, { same: true, length: 3670016 });
});

// ---- ports, streams and requests from main (docs/PROTOCOL.md 7.1, 7.2) ------------------------
// After the counting tests above: these add todos.

test('a stream of todos read with for await in the page, left halfway, and a live stream of changes', async () => {
  const result = await page.evaluate(async () => {
    const stream = await window.todos.watch(1000);
    const seen = [];
    for await (const todo of stream) {
      seen.push(todo.id);
      if (seen.length === 3) break; // cancels the stream: main's producer stops
    }
    // A second stream with a limit ends by itself after the current todos and one change.
    const count = (await window.todos.list()).length;
    const limited = await window.todos.watch(count + 1);
    const ids = [];
    const reading = (async () => { for await (const todo of limited) ids.push(todo.title); })();
    await window.todos.add('seen live');
    await reading;
    return { isStream: stream instanceof window.IpcStream, seen, count, last: ids.at(-1), length: ids.length };
  });
  assert.equal(result.isStream, true);
  assert.deepEqual(result.seen, [1, 2, 3]);
  assert.equal(result.length, result.count + 1);
  assert.equal(result.last, 'seen live');
  // The page's own live feed (a stream opened at start-up) showed the change too.
  await page.waitForFunction(() => [...document.querySelectorAll('#feed li')].some((li) => li.textContent.includes('seen live')), null, { timeout: 5000 });
});

test('an upload from an async generator, pulled as main grants credit', async () => {
  const result = await page.evaluate(async () => {
    let pulled = 0;
    async function* titles() {
      // More than the Rust main's port window (64): pulled only as main grants credit.
      for (let i = 1; i <= 150; i++) {
        pulled += 1;
        yield `imported ${i}`;
      }
    }
    const before = (await window.todos.list()).length;
    const added = await window.todos.import(titles());
    const after = await window.todos.list();
    return { added, pulled, grew: after.length - before, last: after.at(-1).title };
  });
  assert.deepEqual(result, { added: 150, pulled: 150, grew: 150, last: 'imported 150' });
  // The page's form uploads too.
  await page.fill('#titles', 'from the form 1\nfrom the form 2');
  await page.click('#import button');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'imported 2 todos', null, { timeout: 5000 });
});

test('a port round trip: main answers each line upper-cased, and the page closes it', async () => {
  const result = await page.evaluate(async () => {
    const port = await window.todos.chat();
    const lines = [];
    const done = new Promise((resolve) => port.onMessage((line) => {
      lines.push(line);
      if (lines.length === 2) resolve();
    }));
    port.postMessage('hello');
    port.postMessage('from chromium');
    await done;
    const closes = [];
    port.onClose((error) => closes.push(error));
    port.close();
    let after;
    try {
      port.postMessage('too late');
    } catch (error) {
      after = error.code;
    }
    return { isPort: port instanceof window.IpcPort, lines, closed: port.closed, closes, after };
  });
  assert.deepEqual(result, { isPort: true, lines: ['HELLO', 'FROM CHROMIUM'], closed: true, closes: [null], after: 'disconnected' });
  // The page's chat form uses its own port.
  await page.fill('#line', 'typed line');
  await page.click('#chat button');
  await page.waitForFunction(() => [...document.querySelectorAll('#answers li')].some((li) => li.textContent === 'TYPED LINE'), null, { timeout: 5000 });
  assert.deepEqual(pageErrors, []);
});

test('a capability handle in the page: calls through it, release, use after release rejected, a method its policy refuses to pages', async () => {
  const result = await page.evaluate(async () => {
    const todos = window.todos;
    const before = await todos.notebooksOpen();
    const notebook = await todos.openNotebook('from chromium');
    const counts = await Promise.all([notebook.write('one'), notebook.write('two')]);
    const lines = await notebook.read();
    const opened = (await todos.notebooksOpen()) - before;
    notebook.release();
    let after;
    try {
      await notebook.read();
    } catch (error) {
      after = { code: error.code, isFramework: error instanceof window.IpcFrameworkError };
    }
    // The object leaves the Rust main once its release (a port close) arrives.
    const deadline = Date.now() + 5000;
    let now = await todos.notebooksOpen();
    while (now !== before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      now = await todos.notebooksOpen();
    }
    let disposed = null;
    if (typeof Symbol.dispose === 'symbol') {
      const scoped = await todos.openNotebook('using');
      scoped[Symbol.dispose]();
      disposed = scoped.released;
    }
    // `clear` admits native renderers and windows: main refuses this page (a WebSocket page)
    // at the call, and the handle goes on serving.
    const guarded = await todos.openNotebook('guarded');
    let cleared;
    try {
      cleared = await guarded.clear();
    } catch (error) {
      cleared = { code: error.code, rule: error.rule };
    }
    const kept = await guarded.read();
    guarded.release();
    const first = lines.shift();
    return { counts: counts.sort(), first, rest: lines.sort(), opened, released: notebook.released, after, back: now === before, disposed, hasDispose: typeof Symbol.dispose === 'symbol', cleared, kept };
  });
  // Two concurrent writes: in either order.
  assert.deepEqual(result, {
    counts: [2, 3],
    first: 'from chromium',
    rest: ['one', 'two'],
    opened: 1,
    released: true,
    after: { code: 'disconnected', isFramework: true },
    back: true,
    disposed: result.hasDispose ? true : null,
    hasDispose: result.hasDispose,
    cleared: { code: 'forbidden', rule: '#[policy(native)] or #[policy(window)]' },
    kept: ['guarded'],
  });
  assert.deepEqual(pageErrors, []);
});

test('an object the page serves: main calls it per todo, its error and its abort cross back', async () => {
  const result = await page.evaluate(async () => {
    const todos = window.todos;
    await todos.add('for the sink');
    const titles = (await todos.list()).map((todo) => todo.title);
    const seen = [];
    const taken = await todos.export({
      async take(todo, sent, signal) {
        seen.push({ title: todo.title, date: sent instanceof Date, signal: signal instanceof AbortSignal });
        return true;
      },
    });
    let refused;
    try {
      await todos.export({ take(todo) { throw { name: 'IpcAppError', data: { kind: 'Refused', id: todo.id, reason: 'no room' } }; } });
    } catch (error) {
      refused = { name: error.name, kind: error.data.kind, reason: error.data.reason };
    }
    let aborted = null;
    let timedOut;
    try {
      await todos.export({ take: (todo, sent, signal) => new Promise(() => { aborted = signal; }) }, { timeoutMs: 100 });
    } catch (error) {
      timedOut = error.code;
    }
    const deadline = Date.now() + 5000;
    while (!aborted.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    let missing;
    try {
      todos.export({ tak() { return true; } });
    } catch (error) {
      missing = error instanceof TypeError && /no method `take`/.test(error.message);
    }
    return { taken, titles, seen, refused, timedOut, aborted: aborted.aborted, missing };
  });
  assert.equal(result.taken, result.titles.length);
  assert.deepEqual(result.seen, result.titles.map((title) => ({ title, date: true, signal: true })));
  assert.deepEqual(result.refused, { name: 'IpcAppError', kind: 'Refused', reason: 'no room' });
  assert.deepEqual([result.timedOut, result.aborted, result.missing], ['timeout', true, true]);
  assert.deepEqual(pageErrors, []);
});

test('a request from main answered by the page: main asks each page that connects, the page\'s handler answers', async () => {
  // Main asks as soon as the page has connected (retrying while its handler is not registered
  // yet), then announces the answer to that page alone.
  await page.waitForFunction(() => window.announcements.some((m) => m.startsWith('main asked')), null, { timeout: 10000 });
  const seen = await page.evaluate(() => ({ questions: window.questions, announcements: window.announcements }));
  assert.deepEqual(seen.questions, ['May main keep your todos after you leave?']);
  assert.ok(seen.announcements.includes('main asked and you said yes'), JSON.stringify(seen.announcements));
  assert.match(exampleOutput, /main: asked browser page: Ok\(true\)/);
});

test('bytes cross the WebSocket as Uint8Arrays: 0 B, 1 B, 64 KiB and 8 MiB (8 MiB in chunks)', async () => {
  // Last, as the test above: it adds a todo.
  const result = await page.evaluate(async () => {
    const pattern = (size) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 8)) & 0xff;
      return bytes;
    };
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    const todo = await window.todos.add('with a file');
    const outcomes = [];
    for (const size of [0, 1, 64 * 1024, 8 * 1024 * 1024]) {
      const file = pattern(size);
      const stored = await window.todos.attach(todo.id, file);
      const back = await window.todos.attachment(todo.id);
      outcomes.push({ size, stored, isUint8Array: back instanceof Uint8Array, same: same(back, file) });
    }
    let refused;
    try {
      window.todos.attach(todo.id, 'AAEC');
    } catch (error) {
      refused = `${error.name}: ${error.message}`;
    }
    return { outcomes, refused };
  });
  for (const outcome of result.outcomes) {
    assert.deepEqual(outcome, { size: outcome.size, stored: outcome.size, isUint8Array: true, same: true });
  }
  assert.equal(result.refused, 'TypeError: todos.attach: argument 2 (file) must be bytes (a Uint8Array), got a string');
});

test('timestamps cross the WebSocket as Dates of the page (with milliseconds, before 1970), nested and in events', async () => {
  // Last, as the tests above: it adds a todo.
  const result = await page.evaluate(async () => {
    const moments = ['1969-12-31T23:59:58.500Z', '1900-02-28T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    const echoed = [];
    for (const iso of moments) {
      const back = await window.todos.postpone(new Date(iso), 0, false);
      echoed.push([iso, back instanceof Date ? back.toISOString() : typeof back]);
    }
    const todo = await window.todos.add('with a schedule');
    let event;
    const off = window.todos.onScheduled((id, schedule) => { if (id === todo.id) event = schedule; });
    const stored = await window.todos.schedule(todo.id, { due: new Date(-1), remind_every: 1500.25, snoozed: [new Date(86400000)] });
    const until = Date.now() + 5000;
    while (event === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5));
    off();
    const read = (s) => s && ({ due: s.due instanceof Date && s.due.toISOString(), every: s.remind_every, snoozed: s.snoozed.map((d) => d instanceof Date && d.toISOString()) });
    let refused;
    try {
      window.todos.postpone(new Date(NaN), 0, false);
    } catch (error) {
      refused = `${error.name}: ${error.message}`;
    }
    return { echoed, stored: read(stored), event: read(event), due: (await window.todos.due(todo.id)).toISOString(), refused };
  });
  for (const [iso, back] of result.echoed) assert.equal(back, iso);
  const expected = { due: '1969-12-31T23:59:59.999Z', every: 1500.25, snoozed: ['1970-01-02T00:00:00.000Z'] };
  assert.deepEqual(result.stored, expected);
  assert.deepEqual(result.event, expected);
  assert.equal(result.due, '1969-12-31T23:59:59.999Z');
  assert.equal(result.refused, 'TypeError: todos.postpone: argument 1 (at) must be a Date (years 0 to 9999), got an invalid Date');
});

test('every enum representation crosses the WebSocket and back, nested, and wrong values are refused at their path', async () => {
  const result = await page.evaluate(async () => {
    const views = [
      { order: 'oldest', filters: [], page: { t: 'all' }, pinned: [], icon: null },
      { order: { by_title: { descending: true } }, filters: [{ by: 'done', done: false }], page: { t: 'range', c: [4294967295, 20] }, pinned: [7, 'milk'], icon: new Uint8Array([0, 255]) },
      { order: { by_due: false }, filters: [{ by: 'title', contains: 'x' }, { by: 'all' }], page: { t: 'after', c: 0 }, pinned: [''], icon: new Uint8Array(0) },
    ];
    const plain = (v) => JSON.parse(JSON.stringify(v, (_, x) => (x instanceof Uint8Array ? { bytes: Array.from(x) } : x)));
    const echoed = [];
    for (const view of views) {
      const back = await window.todos.setView(view);
      echoed.push([plain(view), plain(back), back.icon === null || back.icon instanceof Uint8Array]);
    }
    const capped = (await window.todos.setView({ ...views[0], page: { t: 'range', c: [1, 65535] } })).page;
    const refused = [];
    for (const wrong of [
      { ...views[0], page: { t: 'range', c: [0, 65536] } },
      { ...views[0], filters: [{ by: 'colour' }] },
      { ...views[0], pinned: [true] },
      { ...views[0], order: { by_title: { descending: 1 } } },
    ]) {
      try {
        window.todos.setView(wrong);
        refused.push('sent');
      } catch (error) {
        refused.push(`${error.name}: ${error.message}`);
      }
    }
    return { echoed, capped, refused };
  });
  for (const [sent, back, bytes] of result.echoed) {
    assert.deepEqual(back, sent);
    assert.ok(bytes, 'icon is a Uint8Array of the page');
  }
  assert.deepEqual(result.capped, { t: 'range', c: [1, 1000] });
  assert.deepEqual(result.refused, [
    'TypeError: todos.setView: argument 1 (view).page.c[1] must be an integer from 0 to 65535, got the number 65536',
    'TypeError: todos.setView: argument 1 (view).filters[0].by must be one of "done", "title", "all", got a string',
    'TypeError: todos.setView: argument 1 (view).pinned[0] must be an integer from 0 to 4294967295 or a string, got true',
    'TypeError: todos.setView: argument 1 (view).order.by_title.descending must be a boolean, got the number 1',
  ]);
});

test('64-bit integers cross the WebSocket as bigints of the page, exact at both ends of their range', async () => {
  const result = await page.evaluate(async () => {
    const max = 2n ** 64n - 1n;
    const back = await window.todos.measure({ bytes: max - 1n, delta: -(2n ** 63n), history: [2n ** 53n + 1n] }, 1n);
    let refused;
    try {
      window.todos.measure({ bytes: 1n, delta: 0n, history: [] }, 1);
    } catch (error) {
      refused = `${error.name}: ${error.message}`;
    }
    return {
      types: [typeof back.bytes, typeof back.delta, ...back.history.map((h) => typeof h)],
      values: [String(back.bytes), String(back.delta), ...back.history.map(String)],
      refused,
    };
  });
  assert.deepEqual(result.types, ['bigint', 'bigint', 'bigint', 'bigint']);
  assert.deepEqual(result.values, ['18446744073709551615', '-9223372036854775808', '9007199254740993', '18446744073709551614']);
  assert.equal(result.refused, 'TypeError: todos.measure: argument 2 (extra) must be a bigint of at most 64 bits, got the number 1');
});

test('the generated client.mjs in Node, on the ws package: calls, bytes, dates and bigints against the same main', async () => {
  // What a Node or Electron main-process program would do: the served client.mjs, imported, over
  // a WebSocket implementation of its own that sends the page's Origin.
  const { default: WebSocketPackage } = await import('ws');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-ws-client-'));
  try {
    const file = path.join(dir, 'client.mjs');
    fs.writeFileSync(file, await (await fetch(new URL('/client.mjs', PAGE))).text());
    const client = await import(file);
    const origin = new URL(PAGE).origin;
    class PageWebSocket extends WebSocketPackage {
      constructor(url) {
        super(url, { origin });
      }
    }
    const todos = await client.connect(WS, { WebSocket: PageWebSocket, label: 'node-ws' });
    todos.handleConfirm(() => true);
    try {
      const todo = await todos.add('from Node over ws');
      const file = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff);
      assert.equal(await todos.attach(todo.id, file), file.length);
      const back = await todos.attachment(todo.id);
      assert.ok(back instanceof Uint8Array && back.length === file.length && back.every((b, i) => b === file[i]));
      const at = await todos.postpone(new Date('1969-12-31T23:59:58.500Z'), 500, false);
      assert.equal(at.toISOString(), '1969-12-31T23:59:59.000Z');
      const usage = await todos.measure({ bytes: 2n ** 64n - 2n, delta: -1n, history: [] }, 1n);
      assert.equal(usage.bytes, 2n ** 64n - 1n);
    } finally {
      client.close(todos);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
