'use strict';
// A small invoke through the generated Electron bridge (bridge.js, in Node as Electron's main
// process would run it) to a Rust main child over stdio, next to the floor: a plain Node parent
// and a Node child exchanging the same length-prefixed JSON frames over stdio (an echo). Both
// children are spawned with 'pipe' stdio, which Node gives as socketpairs.
//
//   node scripts/bench-bridge.js <todos_main_stdio binary> [calls]
//
// Prints the mean and median time per round trip of each, and the ratio (target: within 1.2x).

const path = require('node:path');
const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');

const [main, callsArg] = process.argv.slice(2);
if (!main) {
  console.error('usage: node scripts/bench-bridge.js <todos_main_stdio binary> [calls]');
  process.exit(2);
}
const CALLS = Number(callsArg) || 20000;
const WARMUP = 2000;
const { createBridge } = require(path.join(__dirname, '..', 'examples', 'electron', 'generated', 'bridge.js'));

// The plain peer: echoes every length-prefixed frame it reads on stdin to stdout.
const ECHO_CHILD = `
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 4 + length) break;
    process.stdout.write(pending.subarray(0, 4 + length));
    pending = pending.subarray(4 + length);
  }
});
`;

function summary(times) {
  const sorted = Float64Array.from(times).sort();
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { mean, median: sorted[Math.floor(sorted.length / 2)] };
}

async function plainPeer() {
  const child = spawn(process.execPath, ['-e', ECHO_CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  let waiting = null;
  let pending = Buffer.alloc(0);
  child.stdout.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      const body = pending.subarray(4, 4 + length);
      pending = pending.subarray(4 + length);
      const resolve = waiting;
      waiting = null;
      resolve(JSON.parse(body.toString('utf8')));
    }
  });
  const call = (id) => new Promise((resolve) => {
    waiting = resolve;
    const body = Buffer.from(JSON.stringify({ t: 'invoke', id, ch: 'todos:list', args: [] }), 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    child.stdin.write(Buffer.concat([header, body]));
  });
  const times = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const start = performance.now();
    await call(i);
    if (i >= WARMUP) times.push(performance.now() - start);
  }
  child.kill();
  return summary(times);
}

async function bridge() {
  const handlers = new Map();
  const ipcMain = {
    handle: (channel, handler) => handlers.set(channel, handler),
    removeHandler: (channel) => handlers.delete(channel),
    on: () => {},
    removeListener: () => {},
  };
  const dispose = createBridge({ ipcMain, command: main, args: [], allowedOrigins: ['app://bench'] });
  await dispose.ready;
  const list = handlers.get('todos:list');
  const event = {
    sender: { id: 1, once: () => {}, removeListener: () => {}, isDestroyed: () => false },
    senderFrame: { url: 'app://bench/index.html', origin: 'app://bench' },
    processId: 1,
    frameId: 1,
  };
  const times = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const start = performance.now();
    const envelope = await list(event, i + 1, null);
    if (!envelope || !('ok' in envelope)) throw new Error(`unexpected answer ${JSON.stringify(envelope)}`);
    if (i >= WARMUP) times.push(performance.now() - start);
  }
  dispose();
  return summary(times);
}

(async () => {
  const floor = await plainPeer();
  const ours = await bridge();
  const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`small invoke over stdio, ${CALLS} calls (after ${WARMUP} to warm up):`);
  console.log(`  plain Node stdio JSON peer (echo)  mean ${us(floor.mean)}  median ${us(floor.median)}`);
  console.log(`  bridge.js -> Rust main             mean ${us(ours.mean)}  median ${us(ours.median)}`);
  const ratio = ours.median / floor.median;
  console.log(`  bridge / plain (median): ${ratio.toFixed(2)}x (target <= 1.2x: ${ratio <= 1.2 ? 'ok' : 'MISS'})`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
