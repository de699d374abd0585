'use strict';
// The JavaScript peers against their floors, in one run: a small invoke and 1 MiB of bytes each
// way, through the generated Electron bridge (bridge.js in Node, as Electron's main process runs
// it) to a Rust main over stdio, and through the generated browser client (client.mjs) to a Rust
// main over a real WebSocket; next to a plain Node peer that echoes the same frames over stdio.
//
//   node --experimental-websocket scripts/bench-js.js <todos_main_stdio> <browser example> [calls]
//
// 1 MiB "echo" is `attach(id, 1 MiB)` (up) plus `attachment(id)` (down) of the examples' Todos
// contract: 1 MiB each way, as the plain peer's echo of a 1 MiB frame. Electron's own structured
// clone of 1 MiB is about 3 ms per round trip (the target: at or under it).

const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { pathToFileURL } = require('node:url');

const [mainBinary, browserBinary, callsArg] = process.argv.slice(2);
if (!mainBinary || !browserBinary || typeof WebSocket !== 'function') {
  console.error('usage: node --experimental-websocket scripts/bench-js.js <todos_main_stdio> <browser example> [calls]');
  process.exit(2);
}
const CALLS = Number(callsArg) || 5000;
const BIG_CALLS = Math.max(50, Math.floor(CALLS / 50));
const MiB = 1024 * 1024;
const generated = path.join(__dirname, '..', 'examples', 'electron', 'generated');
const { createBridge } = require(path.join(generated, 'bridge.js'));

function median(times) {
  const sorted = Float64Array.from(times).sort();
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(calls, once) {
  const warmup = Math.max(10, Math.floor(calls / 10));
  const times = [];
  for (let i = 0; i < warmup + calls; i++) {
    const start = performance.now();
    await once(i);
    if (i >= warmup) times.push(performance.now() - start);
  }
  return median(times);
}

// ---- the floor: a plain Node child echoing length-prefixed frames over stdio ----------------

// Pieces are joined once a whole frame is there (not on every read), as bridge.js does.
const ECHO_CHILD = `
let pieces = [];
let size = 0;
let needed = 4;
process.stdin.on('data', (chunk) => {
  pieces.push(chunk);
  size += chunk.length;
  if (size < needed) return;
  let pending = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size);
  needed = 4;
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 4 + length) { needed = 4 + length; break; }
    process.stdout.write(pending.subarray(0, 4 + length));
    pending = pending.subarray(4 + length);
  }
  pieces = [pending];
  size = pending.length;
});
`;

async function plainPeer() {
  const child = spawn(process.execPath, ['-e', ECHO_CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  let waiting = null;
  let pieces = [];
  let size = 0;
  let needed = 4;
  child.stdout.on('data', (chunk) => {
    pieces.push(chunk);
    size += chunk.length;
    if (size < needed) return;
    let pending = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size);
    needed = 4;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) {
        needed = 4 + length;
        break;
      }
      const body = pending.subarray(4, 4 + length);
      pending = pending.subarray(4 + length);
      const resolve = waiting;
      waiting = null;
      resolve(body);
    }
    pieces = [pending];
    size = pending.length;
  });
  const echo = (body) => new Promise((resolve) => {
    waiting = resolve;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    child.stdin.write(Buffer.concat([header, body]));
  });
  const small = Buffer.from(JSON.stringify({ t: 'invoke', id: 1, ch: 'todos:list', args: [] }));
  const big = Buffer.alloc(MiB, 7);
  const result = {
    small: await measure(CALLS, () => echo(small)),
    big: await measure(BIG_CALLS, () => echo(big)),
  };
  child.kill();
  return result;
}

// ---- the bridge: bridge.js -> Rust main over stdio --------------------------------------------

async function bridge() {
  const handlers = new Map();
  const ipcMain = {
    handle: (channel, handler) => handlers.set(channel, handler),
    removeHandler: (channel) => handlers.delete(channel),
    on: () => {},
    removeListener: () => {},
  };
  const dispose = createBridge({ ipcMain, command: mainBinary, args: [], allowedOrigins: ['app://bench'] });
  await dispose.ready;
  const frame = { url: 'app://bench/index.html', origin: 'app://bench' };
  const sender = { id: 1, mainFrame: frame, send: () => {}, once: () => {}, removeListener: () => {}, isDestroyed: () => false };
  const event = { sender, senderFrame: frame, processId: 1, frameId: 1 };
  let callId = 0;
  const call = async (channel, ...args) => {
    const envelope = await handlers.get(channel)(event, ++callId, null, null, ...args);
    if (!envelope || !('ok' in envelope)) throw new Error(`${channel}: ${JSON.stringify(envelope)}`);
    return envelope.ok;
  };
  const todo = await call('todos:add', 'with a file');
  const file = new Uint8Array(MiB).fill(7);
  const result = {
    small: await measure(CALLS, () => call('todos:list')),
    up: await measure(BIG_CALLS, () => call('todos:attach', todo.id, file)),
    down: await measure(BIG_CALLS, async () => {
      const back = await call('todos:attachment', todo.id);
      if (back.length !== MiB) throw new Error(`got ${back.length} bytes`);
    }),
  };
  dispose();
  return result;
}

// ---- the browser client: client.mjs -> Rust main over a WebSocket ------------------------------

// Two WebSocket implementations for Node: its own (undici, masks what it sends in JavaScript) and
// the `ws` package with `bufferutil`, its native masking (both tests/js dependencies): what a Node
// or Electron program would use.
const WS_PACKAGE = require(path.join(__dirname, '..', 'tests', 'js', 'node_modules', 'ws'));

/** The browser example (a Rust main with a WebSocket endpoint) and a WebSocket class for it. */
async function webSocketMain(implementation) {
  const child = spawn(browserBinary, [], { stdio: ['ignore', 'pipe', 'ignore'] });
  process.on('exit', () => child.kill());
  const lines = readline.createInterface({ input: child.stdout });
  const found = {};
  for await (const line of lines) {
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    const value = line.slice(at + 1);
    if (key === 'PAGE' || key === 'WS') found[key] = value;
    if (found.PAGE && found.WS) break;
  }
  const origin = new URL(found.PAGE).origin;
  // A page's WebSocket sends its Origin; Node's sends none unless told.
  const PageWebSocket = implementation === 'ws'
    ? class extends WS_PACKAGE { constructor(url) { super(url, { origin }); } }
    : class extends WebSocket { constructor(url) { super(url, { headers: { Origin: origin } }); } };
  return { child, url: found.WS, PageWebSocket };
}

// The WebSocket floor: Node's own WebSocket (undici) carrying frames encoded once beforehand to
// the same Rust main, with no client.mjs in between. Node's client masks what it sends in
// JavaScript; a browser does it natively.
async function rawWebSocket(implementation) {
  const { packFrame, unpackFrame } = require('../tests/js/support/msgpack');
  const { child, url, PageWebSocket } = await webSocketMain(implementation);
  const socket = new PageWebSocket(url);
  socket.binaryType = 'arraybuffer';
  // Replies only (main also asks each page a question, which goes unanswered here).
  let waiting = null;
  socket.onmessage = (message) => {
    if (typeof message.data === 'string') return;
    const frame = unpackFrame(new Uint8Array(message.data));
    if (frame.t !== 'reply' || waiting === null) return;
    const resolve = waiting;
    waiting = null;
    resolve(frame);
  };
  await new Promise((resolve) => { socket.onopen = resolve; });
  socket.send(JSON.stringify({ t: 'hello', protocol: 1, role: 'renderer', codec: 'msgpack', contracts: {}, label: 'floor' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const round = (bytes) => new Promise((resolve) => {
    waiting = resolve;
    socket.send(bytes);
  });
  const todo = (await round(packFrame({ t: 'invoke', id: 1, ch: 'todos:add', args: ['floor'] }, 0))).ok;
  const up = packFrame({ t: 'invoke', id: 2, ch: 'todos:attach', args: [todo.id, new Uint8Array(MiB).fill(7)] }, 0);
  const down = packFrame({ t: 'invoke', id: 3, ch: 'todos:attachment', args: [todo.id] }, 0);
  const result = {
    up: await measure(BIG_CALLS, () => round(up)),
    down: await measure(BIG_CALLS, () => round(down)),
  };
  socket.close();
  child.kill();
  return result;
}

async function browserClient(implementation) {
  const { child, url, PageWebSocket } = await webSocketMain(implementation);
  const client = await import(pathToFileURL(path.join(generated, 'client.mjs')).href);
  const todos = await client.connect(url, { WebSocket: PageWebSocket, label: 'bench' });
  todos.handleConfirm(() => true);
  const todo = await todos.add('with a file');
  const file = new Uint8Array(MiB).fill(7);
  const result = {
    small: await measure(CALLS, () => todos.list()),
    up: await measure(BIG_CALLS, () => todos.attach(todo.id, file)),
    down: await measure(BIG_CALLS, async () => {
      const back = await todos.attachment(todo.id);
      if (back.length !== MiB) throw new Error(`got ${back.length} bytes`);
    }),
  };
  client.close(todos);
  child.kill();
  return result;
}

(async () => {
  const floor = await plainPeer();
  const viaBridge = await bridge();
  const viaClient = await browserClient('undici');
  const wsFloor = await rawWebSocket('undici');
  const viaClientWs = await browserClient('ws');
  const wsPackageFloor = await rawWebSocket('ws');
  const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
  const msf = (ms) => `${ms.toFixed(2)} ms`;
  console.log(`JavaScript peers, medians (${CALLS} small calls, ${BIG_CALLS} of 1 MiB, after a warm-up):`);
  console.log(`  small invoke     plain Node stdio echo ${us(floor.small)} | bridge.js ${us(viaBridge.small)} (${(viaBridge.small / floor.small).toFixed(2)}x) | client.mjs ${us(viaClient.small)}`);
  const echoBridge = viaBridge.up + viaBridge.down;
  const echoClient = viaClient.up + viaClient.down;
  console.log(`  1 MiB each way   plain Node stdio echo ${msf(floor.big)} | bridge.js ${msf(echoBridge)} (up ${msf(viaBridge.up)} + down ${msf(viaBridge.down)}; ${(echoBridge / floor.big).toFixed(2)}x) | client.mjs ${msf(echoClient)} (up ${msf(viaClient.up)} + down ${msf(viaClient.down)})`);
  const echoFloor = wsFloor.up + wsFloor.down;
  console.log(`  1 MiB over Node's WebSocket alone (undici, frames encoded beforehand): ${msf(echoFloor)} (up ${msf(wsFloor.up)} + down ${msf(wsFloor.down)}); client.mjs / that: ${(echoClient / echoFloor).toFixed(2)}x`);
  const echoClientWs = viaClientWs.up + viaClientWs.down;
  const echoWsFloor = wsPackageFloor.up + wsPackageFloor.down;
  console.log(`  client.mjs on the ws package: small invoke ${us(viaClientWs.small)} | 1 MiB each way ${msf(echoClientWs)} (up ${msf(viaClientWs.up)} + down ${msf(viaClientWs.down)}) | ws alone ${msf(echoWsFloor)}; client.mjs / that: ${(echoClientWs / echoWsFloor).toFixed(2)}x`);
  console.log(`  1 MiB against Electron's ~3 ms: bridge.js ${echoBridge <= 3 ? 'ok' : 'MISS'}, client.mjs on ws ${echoClientWs <= 3 ? 'ok' : 'MISS'}, client.mjs on Node's WebSocket ${echoClient <= 3 ? 'ok' : 'MISS'} (that WebSocket alone takes ${msf(echoFloor)})`);
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
