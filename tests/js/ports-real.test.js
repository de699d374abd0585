'use strict';
// Streams, uploads and ports end to end against the real Rust main (the examples' Todos contract
// over stdio, `watch`, `import` and `chat`): through the generated preload and bridge in every
// isolation mode, and through the browser client.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { eventually } = require('./support/setup');
const { realBrowserClient } = require('./support/peers');
const { startSession } = require('./support/session');

const plain = (value) => JSON.parse(JSON.stringify(value));

const MODES = [
  { name: 'context isolation, Electron 35+', window: { contextIsolated: true }, copies: false },
  { name: 'context isolation, older Electron', window: { contextIsolated: true, executeInMainWorld: false }, copies: true },
  { name: 'no context isolation', window: { contextIsolated: false }, copies: false },
];

function iteratorOf(stream, copies) {
  return copies ? { next: () => stream.next(), return: () => stream.return() } : stream[Symbol.asyncIterator]();
}

/** The same scenario for any API object and the frames it sent to the Rust main. */
function scenario(getApi, getToRust, copies) {
  it('reads a stream of todos with for await, and leaving it halfway cancels it in the Rust main', async () => {
    const todos = getApi();
    for (const title of ['one', 'two', 'three']) await todos.add(title);
    const stream = await todos.watch(100);
    const iterator = iteratorOf(stream, copies);
    const titles = [];
    for (;;) {
      const step = await iterator.next();
      titles.push(step.value.title);
      if (titles.length === 2) {
        await iterator.return();
        break;
      }
    }
    assert.deepEqual(titles, ['one', 'two']);
    await eventually(() => getToRust().some((f) => f.t === 'close' && f.reason === 'cancelled'), 'the cancel');
    // Changes keep coming for live streams: a new one sees the todo added after it started.
    const live = await todos.watch(4);
    const liveIterator = iteratorOf(live, copies);
    for (let i = 0; i < 3; i++) await liveIterator.next();
    setTimeout(() => todos.add('four'), 20);
    assert.equal((await liveIterator.next()).value.title, 'four');
    assert.deepEqual(plain(await liveIterator.next()), { done: true });
  });

  it('uploads a stream argument', async () => {
    const todos = getApi();
    const before = (await todos.list()).length;
    assert.equal(await todos.import(['imported 1', 'imported 2', 'imported 3']), 3);
    const titles = plain(await todos.list()).map((t) => t.title);
    assert.equal(titles.length, before + 3);
    assert.deepEqual(titles.slice(-3), ['imported 1', 'imported 2', 'imported 3']);
    // More items than the Rust main's port window: pumped as it grants credit.
    const many = Array.from({ length: 150 }, (_, i) => `bulk ${i}`);
    assert.equal(await todos.import(many), 150);
  });

  it('round-trips messages on a port, and closes it', async () => {
    const todos = getApi();
    const port = await todos.chat();
    const got = [];
    port.onMessage((line) => got.push(line));
    for (const line of ['hello', 'world']) port.postMessage(line);
    await eventually(() => got.length === 2, 'the answers');
    assert.deepEqual(got, ['HELLO', 'WORLD']);
    port.close();
    await eventually(() => getToRust().some((f) => f.t === 'close' && !f.reason && !f.error), 'the close');
  });
}

for (const mode of MODES) {
  describe(`ports with the real Rust main, preload: ${mode.name}`, () => {
    let session;
    let window;
    before(async () => {
      session = await startSession();
      window = session.open(mode.window);
    });
    after(async () => {
      await session.close();
    });
    scenario(() => window.page.global.todos, () => session.rust.toRust, mode.copies);
  });
}

describe('ports with the real Rust main, browser client', () => {
  const browser = realBrowserClient();
  scenario(browser.api, browser.sent, false);
});
