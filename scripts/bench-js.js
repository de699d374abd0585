'use strict';
// The JavaScript peers against their floors, in one run: a small invoke and 1 MiB of bytes each
// way, through the generated Electron bridge (bridge.js in Node, as Electron's main process runs
// it) to a Rust main over stdio, and through the generated browser client (client.mjs) to a Rust
// main over a real WebSocket; next to a plain Node peer that echoes the same frames over stdio.
//
//   node --experimental-websocket --expose-gc scripts/bench-js.js <todos_main_stdio> <browser example> [calls]
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
  console.error('usage: node --experimental-websocket --expose-gc scripts/bench-js.js <todos_main_stdio> <browser example> [calls]');
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

// The machine's state drifts during a run (a 2-core VM's idle states make a small round trip
// 30 µs in one minute and 90 µs in the next), so peers are never measured one after another:
// every peer is set up first, then measured in turns, a slice of its calls per round, in a
// rotating order. Each peer's median is then taken over moments all peers shared, and the
// ratios say what the peers cost, not when they ran.
const ROUNDS = 20;

/** `{ name: once }` measured in turns: the median milliseconds of each. */
async function interleaved(operations, calls) {
  const names = Object.keys(operations);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  const warmup = Math.max(10, Math.floor(calls / 10));
  for (const name of names) {
    for (let i = 0; i < warmup; i++) await operations[name](i);
  }
  const slice = Math.max(1, Math.ceil(calls / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      // Each slice starts on a clean heap: the garbage of the peer before it (1 MiB buffers)
      // is not collected on this one's time.
      if (typeof globalThis.gc === 'function') globalThis.gc();
      for (let i = 0; i < slice; i++) {
        const start = performance.now();
        await operations[name](i);
        times[name].push(performance.now() - start);
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(times[name])]));
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
  return {
    small: () => echo(small),
    big: () => echo(big),
    close: () => child.kill(),
  };
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
  return {
    small: () => call('todos:list'),
    up: () => call('todos:attach', todo.id, file),
    down: async () => {
      const back = await call('todos:attachment', todo.id);
      if (back.length !== MiB) throw new Error(`got ${back.length} bytes`);
    },
    close: () => dispose(),
  };
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
  const small = packFrame({ t: 'invoke', id: 2, ch: 'todos:list', args: [] }, 0);
  const up = packFrame({ t: 'invoke', id: 3, ch: 'todos:attach', args: [todo.id, new Uint8Array(MiB).fill(7)] }, 0);
  const down = packFrame({ t: 'invoke', id: 4, ch: 'todos:attachment', args: [todo.id] }, 0);
  return {
    small: () => round(small),
    up: () => round(up),
    down: () => round(down),
    close: () => {
      socket.close();
      child.kill();
    },
  };
}

async function browserClient(implementation) {
  const { child, url, PageWebSocket } = await webSocketMain(implementation);
  const client = await import(pathToFileURL(path.join(generated, 'client.mjs')).href);
  const todos = await client.connect(url, { WebSocket: PageWebSocket, label: 'bench' });
  todos.handleConfirm(() => true);
  const todo = await todos.add('with a file');
  const file = new Uint8Array(MiB).fill(7);
  return {
    small: () => todos.list(),
    up: () => todos.attach(todo.id, file),
    down: async () => {
      const back = await todos.attachment(todo.id);
      if (back.length !== MiB) throw new Error(`got ${back.length} bytes`);
    },
    close: () => {
      client.close(todos);
      child.kill();
    },
  };
}

(async () => {
  const peers = {
    plain: await plainPeer(),
    bridge: await bridge(),
    client: await browserClient('undici'),
    undici: await rawWebSocket('undici'),
    clientWs: await browserClient('ws'),
    ws: await rawWebSocket('ws'),
  };
  const each = (kind) => Object.fromEntries(Object.entries(peers)
    .filter(([, peer]) => typeof peer[kind] === 'function')
    .map(([name, peer]) => [name, peer[kind]]));
  const small = await interleaved(each('small'), CALLS);
  const big = await interleaved({ plain: peers.plain.big, ...Object.fromEntries(Object.entries(each('up')).map(([name, op]) => [`${name} up`, op])), ...Object.fromEntries(Object.entries(each('down')).map(([name, op]) => [`${name} down`, op])) }, BIG_CALLS);
  for (const peer of Object.values(peers)) peer.close();
  const echo = (name) => big[`${name} up`] + big[`${name} down`];
  const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
  const msf = (ms) => `${ms.toFixed(2)} ms`;
  const x = (a, b) => `${(a / b).toFixed(2)}x`;
  const verdict = (ok) => (ok ? 'ok' : 'MISS');
  console.log(`JavaScript peers, medians (${CALLS} small calls, ${BIG_CALLS} of 1 MiB each way, after a warm-up; peers measured in turns, ${ROUNDS} rounds):`);
  console.log(`  small invoke: plain Node stdio echo ${us(small.plain)} | bridge.js ${us(small.bridge)} (${x(small.bridge, small.plain)} of the plain echo; target <= 1.2x: ${verdict(small.bridge <= 1.2 * small.plain)})`);
  console.log(`                client.mjs on Node's WebSocket ${us(small.client)} (that WebSocket alone ${us(small.undici)}: ${x(small.client, small.undici)}) | on ws ${us(small.clientWs)} (ws alone ${us(small.ws)}: ${x(small.clientWs, small.ws)})`);
  console.log(`  1 MiB each way: plain Node stdio echo ${msf(big.plain)} | bridge.js ${msf(echo('bridge'))} (up ${msf(big['bridge up'])} + down ${msf(big['bridge down'])}; ${x(echo('bridge'), big.plain)})`);
  console.log(`                client.mjs on Node's WebSocket ${msf(echo('client'))} (up ${msf(big['client up'])} + down ${msf(big['client down'])}; that WebSocket alone ${msf(echo('undici'))}: ${x(echo('client'), echo('undici'))})`);
  console.log(`                client.mjs on ws ${msf(echo('clientWs'))} (up ${msf(big['clientWs up'])} + down ${msf(big['clientWs down'])}; ws alone ${msf(echo('ws'))}: ${x(echo('clientWs'), echo('ws'))})`);
  console.log(`  1 MiB against Electron's ~3 ms: bridge.js ${verdict(echo('bridge') <= 3)}, client.mjs on ws ${verdict(echo('clientWs') <= 3)}, client.mjs on Node's WebSocket ${verdict(echo('client') <= 3)} (that WebSocket alone takes ${msf(echo('undici'))})`);
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
