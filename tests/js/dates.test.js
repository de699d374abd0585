'use strict';
// Timestamps are Dates in JavaScript: a `SystemTime` (or a chrono, time or jiff timestamp) of the
// contract arrives as a `Date` of the caller's world and is given as one, through the generated
// preload and bridge (every modelled Electron world) and through the generated browser client,
// against a real Rust main (the examples' Todos contract: `postpone` moves a timestamp by a
// duration, `schedule` stores a struct of them, `due` reads one back, the `scheduled` event
// carries one). On the wire a timestamp is RFC 3339 text in UTC (docs/PROTOCOL.md §4, "Time values"), a duration
// a number of milliseconds.

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

// With milliseconds, before 1970, at both ends of what the wire holds, and now.
const MOMENTS = [
  '1970-01-01T00:00:00.000Z',
  '1969-12-31T23:59:58.500Z',
  '1969-07-20T20:17:40.001Z',
  '1900-02-28T23:59:59.999Z',
  '0000-01-01T00:00:00.000Z',
  '0099-03-01T12:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  new Date().toISOString(),
];

function assertDate(actual, iso, what) {
  assert.equal(Object.prototype.toString.call(actual), '[object Date]', `${what} is a Date`);
  assert.equal(Date.prototype.toISOString.call(actual), iso, what);
}

/** The round trips every client must pass: `api()` is the page's API (or the client's). */
function roundTrips(api, wire, Realm, realErrors = true) {
  it('round-trips Dates with milliseconds, before 1970 and at the ends of the range', async () => {
    const todos = api();
    for (const iso of MOMENTS) {
      const back = await todos.postpone(new Date(iso), 0, false);
      assertDate(back, iso, iso);
      if (Realm !== undefined) assert.ok(back instanceof Realm().Date, 'a Date of the caller\'s world');
    }
  });

  it('carries durations as milliseconds, and reads finer times toward the past', async () => {
    const todos = api();
    assertDate(await todos.postpone(new Date(0), 1500, false), '1970-01-01T00:00:01.500Z', '+1500 ms');
    assertDate(await todos.postpone(new Date(0), 86400000, true), '1969-12-31T00:00:00.000Z', '-1 day');
    // Main holds nanoseconds: 1969-12-31T23:59:58.99975Z reads as .999, never as the next ms.
    assertDate(await todos.postpone(new Date(0), 1000.25, true), '1969-12-31T23:59:58.999Z', '-1000.25 ms');
    assertDate(await todos.postpone(new Date(0), 0.001, false), '1970-01-01T00:00:00.000Z', '+1 µs');
  });

  it('round-trips Dates nested in structs, options and arrays, and in events', async () => {
    const todos = api();
    const todo = await todos.add('with a schedule');
    assert.equal(await todos.due(todo.id), null);
    const seen = [];
    const dispose = todos.onScheduled((id, schedule) => seen.push([id, schedule]));
    const schedule = {
      due: new Date('1969-12-31T23:59:59.999Z'),
      remind_every: 90000.5,
      snoozed: [new Date('2024-02-29T12:00:00.123Z'), new Date(-1)],
    };
    const stored = await todos.schedule(todo.id, schedule);
    for (const [what, value] of [['the result', stored], ['the event', null]]) {
      const got = value !== null ? value : await waitFor(() => seen.find(([id]) => id === todo.id), 'the scheduled event')
        .then(([, event]) => event);
      assertDate(got.due, '1969-12-31T23:59:59.999Z', `${what}: due`);
      assert.equal(got.remind_every, 90000.5, `${what}: remind_every`);
      assert.equal(got.snoozed.length, 2);
      assertDate(got.snoozed[0], '2024-02-29T12:00:00.123Z', `${what}: snoozed[0]`);
      assertDate(got.snoozed[1], '1969-12-31T23:59:59.999Z', `${what}: snoozed[1]`);
    }
    dispose();
    assertDate(await todos.due(todo.id), '1969-12-31T23:59:59.999Z', 'due');
    await todos.schedule(todo.id, { due: new Date(0), remind_every: null, snoozed: [] });
    assertDate(await todos.due(todo.id), '1970-01-01T00:00:00.000Z', 'due, rescheduled');
  });

  it('travels as RFC 3339 text in UTC and durations as numbers', async () => {
    const todos = api();
    await todos.postpone(new Date('1969-12-31T23:59:58.500Z'), 250, true);
    const frame = wire().filter((f) => f.t === 'invoke' && f.ch === 'todos:postpone').pop();
    assert.deepEqual(Array.from(frame.args), ['1969-12-31T23:59:58.500Z', 250, true]);
  });

  it('refuses what is not a Date in range with a TypeError naming the path, and sends nothing', async (t) => {
    const todos = api();
    const before = wire().length;
    const cases = [
      [() => todos.postpone('1970-01-01T00:00:00.000Z', 0, false), /argument 1 \(at\) must be a Date \(years 0 to 9999\), got a string/],
      [() => todos.postpone(0, 0, false), /argument 1 \(at\) must be a Date \(years 0 to 9999\), got the number 0/],
      [() => todos.postpone(new Date(NaN), 0, false), /argument 1 \(at\) must be a Date \(years 0 to 9999\), got an invalid Date/],
      [() => todos.postpone(new Date('+010000-01-01T00:00:00Z'), 0, false), /got the Date \+010000-01-01T00:00:00\.000Z/],
      [() => todos.postpone(new Date(-62167219200001), 0, false), /got the Date -000001-12-31T23:59:59\.999Z/],
      // (contextBridge copies it as a plain object, its symbol-keyed tag left behind.)
      [() => todos.postpone({ [Symbol.toStringTag]: 'Date' }, 0, false), /argument 1 \(at\) must be a Date \(years 0 to 9999\), got (an invalid Date|an object)/],
      [() => todos.postpone(new Date(0), '5', false), /argument 2 \(by\) must be a number, got a string/],
      [() => todos.schedule(1, { due: new Date(0), remind_every: null, snoozed: [new Date(0), 5] }), /argument 2 \(schedule\)\.snoozed\[1\] must be a Date \(years 0 to 9999\), got the number 5/],
      [() => todos.schedule(1, { due: '2020-01-01', remind_every: null, snoozed: [] }), /argument 2 \(schedule\)\.due must be a Date \(years 0 to 9999\), got a string/],
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
}

async function waitFor(find, what, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const mode of MODES) {
  describe(`dates through the preload and the bridge: ${mode.name}`, () => {
    let session;
    let page;
    before(async () => {
      session = await startSession();
      page = session.open(mode.window).page;
    });
    after(async () => {
      await session.close();
    });
    // exposeInMainWorld builds the API in the isolated world: its Dates are copied into the page
    // by contextBridge, which clones them in a world of its own.
    const realm = mode.window.executeInMainWorld === false ? undefined : () => page.global;
    roundTrips(() => page.global.todos, () => session.rust.toRust, realm, mode.realErrors);
  });
}

describe('dates through the browser client', () => {
  const browser = realBrowserClient();
  roundTrips(browser.api, browser.sent, () => globalThis);
});
