'use strict';
// 64-bit integers are bigints in JavaScript when the contract opts in (`large_ints = "bigint"`, as
// the examples' Todos contract does): a `u64` or `i64` arrives as a `bigint`, exact across the
// whole range, and is given as one, through the generated preload and bridge (every modelled
// Electron world) and through the generated browser client, against a real Rust main (`measure`
// adds to a `Usage` of 64-bit fields). On the wire they are MessagePack integers.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { realBrowserClient } = require('./support/peers');
const { startSession } = require('./support/session');

const MODES = [
  { name: 'context isolation, Electron 35+ (executeInMainWorld)', window: { contextIsolated: true }, realErrors: true },
  // contextBridge.exposeInMainWorld copies an Error's message only, into a plain `Error`.
  { name: 'context isolation, older Electron (exposeInMainWorld only)', window: { contextIsolated: true, executeInMainWorld: false }, realErrors: false },
  { name: 'no context isolation', window: { contextIsolated: false }, realErrors: true },
];

const MAX_U64 = 2n ** 64n - 1n;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/** The round trips every client must pass: `api()` is the page's API (or the client's). */
function roundTrips(api, wire, realErrors = true) {
  it('round-trips u64 and i64 exactly as bigints: small, past 2^53, and at both ends', async () => {
    const todos = api();
    const cases = [
      [{ bytes: 0n, delta: 0n, history: [] }, 0n],
      [{ bytes: 1n, delta: -1n, history: [2n ** 53n + 1n] }, 2n],
      [{ bytes: 2n ** 53n + 1n, delta: MIN_I64, history: [MAX_U64, 0n] }, 2n ** 53n],
      [{ bytes: MAX_U64 - 5n, delta: MAX_I64, history: [] }, 5n],
      [{ bytes: MAX_U64, delta: 7n, history: [] }, MAX_U64],
    ];
    for (const [usage, extra] of cases) {
      const back = await todos.measure(usage, extra);
      const total = usage.bytes + extra > MAX_U64 ? MAX_U64 : usage.bytes + extra;
      assert.equal(typeof back.bytes, 'bigint', 'bytes is a bigint');
      assert.equal(back.bytes, total);
      assert.equal(typeof back.delta, 'bigint', 'delta is a bigint');
      assert.equal(back.delta, usage.delta);
      assert.deepEqual(Array.from(back.history), [...usage.history, usage.bytes]);
      for (const item of back.history) assert.equal(typeof item, 'bigint');
    }
  });

  it('travels as MessagePack integers', async () => {
    const todos = api();
    await todos.measure({ bytes: MAX_U64, delta: MIN_I64, history: [] }, 1n);
    const frame = wire().filter((f) => f.t === 'invoke' && f.ch === 'todos:measure').pop();
    // (The test's decoder reads integers as numbers: these are the nearest.)
    assert.equal(frame.args[0].bytes, Number(MAX_U64));
    assert.equal(frame.args[0].delta, Number(MIN_I64));
    assert.equal(frame.args[1], 1);
  });

  it('refuses what is not a 64-bit bigint with a TypeError naming the path, and sends nothing', async (t) => {
    const todos = api();
    const before = wire().length;
    const usage = { bytes: 1n, delta: 0n, history: [] };
    const cases = [
      [() => todos.measure(usage, 5), /argument 2 \(extra\) must be a bigint of at most 64 bits, got the number 5/],
      [() => todos.measure(usage, '5'), /argument 2 \(extra\) must be a bigint of at most 64 bits, got a string/],
      [() => todos.measure(usage, 2n ** 64n), /argument 2 \(extra\) must be a bigint of at most 64 bits, got the bigint 18446744073709551616/],
      [() => todos.measure({ bytes: 1, delta: 0n, history: [] }, 1n), /argument 1 \(usage\)\.bytes must be a bigint of at most 64 bits, got the number 1/],
      [() => todos.measure({ bytes: 1n, delta: 0n, history: [1n, 2.5] }, 1n), /argument 1 \(usage\)\.history\[1\] must be a bigint of at most 64 bits, got the number 2\.5/],
    ];
    for (const [call, message] of cases) {
      await assert.rejects(async () => call(), (error) => {
        if (realErrors) assert.equal(error.name, 'TypeError', String(error.message));
        assert.match(error.message, message);
        return true;
      });
    }
    t.diagnostic('nothing crossed');
    assert.equal(wire().length, before);
  });

  it('leaves the range of each Rust type to main: -1 for a u64 is bad_arguments', async () => {
    const todos = api();
    await assert.rejects(async () => todos.measure({ bytes: -1n, delta: 0n, history: [] }, 0n), (error) => {
      assert.equal(error.code, 'bad_arguments');
      return true;
    });
  });
}

for (const mode of MODES) {
  describe(`bigints through the preload and the bridge: ${mode.name}`, () => {
    let session;
    let page;
    before(async () => {
      session = await startSession();
      page = session.open(mode.window).page;
    });
    after(async () => {
      await session.close();
    });
    roundTrips(() => page.global.todos, () => session.rust.toRust, mode.realErrors);
  });
}

describe('bigints through the browser client', () => {
  const browser = realBrowserClient();
  roundTrips(browser.api, browser.sent);
});
