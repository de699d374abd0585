'use strict';
// Bytes are bytes in JavaScript: `ipc_runtime::Bytes` arrives as a Uint8Array and is given as any
// ArrayBuffer or view, through the generated preload and bridge (every modelled Electron world)
// and through the generated browser client, against a real Rust main (the examples' Todos
// contract: `attach` stores a file on a todo, `attachment` returns it). On the wire they are
// MessagePack `bin`: no base64, no JSON text.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { realBrowserClient } = require('./support/peers');
const { startSession } = require('./support/session');

const SIZES = [0, 1, 64 * 1024, 8 * 1024 * 1024];
const MODES = [
  { name: 'context isolation, Electron 35+ (executeInMainWorld)', window: { contextIsolated: true }, realErrors: true },
  { name: 'context isolation, older Electron (exposeInMainWorld only)', window: { contextIsolated: true, executeInMainWorld: false }, realErrors: false },
  { name: 'no context isolation', window: { contextIsolated: false }, realErrors: true },
];

/** `size` bytes of a pattern that a shifted or truncated copy would not match. */
function pattern(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 8)) & 0xff;
  return bytes;
}

function assertBytes(actual, expected, what) {
  assert.equal(Object.prototype.toString.call(actual), '[object Uint8Array]', `${what} is a Uint8Array`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.length)), `${what}: content`);
}

/** The round trips both clients must pass: `todos` is the page's API (or the client's). */
function roundTrips(api, wire) {
  it('round-trips 0 B, 1 B, 64 KiB and 8 MiB as Uint8Arrays', async () => {
    const todos = api();
    const todo = await todos.add('with a file');
    for (const size of SIZES) {
      const file = pattern(size);
      assert.equal(await todos.attach(todo.id, file), size);
      assertBytes(await todos.attachment(todo.id), file, `${size} bytes back`);
    }
  });

  it('takes any ArrayBuffer or view of one, as its bytes', async () => {
    const todos = api();
    const todo = await todos.add('views');
    const source = pattern(64);
    const views = [
      ['an ArrayBuffer', source.buffer.slice(0), source],
      ['a Uint16Array', new Uint16Array(source.buffer.slice(0)), source],
      ['a DataView of a part', new DataView(source.buffer.slice(0), 8, 16), source.subarray(8, 24)],
      ['a subarray', source.subarray(10, 20), source.subarray(10, 20)],
      ['a Buffer', Buffer.from(source), source],
    ];
    for (const [what, view, expected] of views) {
      assert.equal(await todos.attach(todo.id, view), expected.length, what);
      assertBytes(await todos.attachment(todo.id), expected, what);
    }
  });

  it('travels as MessagePack bin, not base64 or numbers', async () => {
    const todos = api();
    const todo = await todos.add('on the wire');
    await todos.attach(todo.id, pattern(300));
    const frame = wire().filter((f) => f.t === 'invoke' && f.ch === 'todos:attach').pop();
    assertBytes(frame.args[1], pattern(300), 'the argument as decoded from the frame');
  });

  it('sends a map with numeric keys (BTreeMap<u32, String>) with number keys, and checks them', async () => {
    const todos = api();
    const a = await todos.add('a');
    const b = await todos.add('b');
    assert.equal(await todos.renameAll({ [a.id]: 'first', [b.id]: 'second', 99999: 'nobody' }), 2);
    const titles = (await todos.list()).filter((todo) => todo.id === a.id || todo.id === b.id).map((todo) => todo.title);
    assert.deepEqual(Array.from(titles), ['first', 'second']);
    await assert.rejects(async () => todos.renameAll({ one: 'x' }), (error) => {
      assert.match(error.message, /todos\.renameAll: argument 1 \(titles\)\.one \(its key\) must be a number, got a string/);
      return true;
    });
  });

  it('refuses what is not bytes with a TypeError, and sends nothing', async (t) => {
    const todos = api();
    const before = wire().length;
    for (const [value, got] of [['AAEC', 'a string'], [[0, 1, 2], 'an array'], [{ 0: 1, length: 1 }, 'an object']]) {
      await assert.rejects(async () => todos.attach(1, value), (error) => {
        assert.match(error.message, new RegExp(`todos\\.attach: argument 2 \\(file\\) must be bytes \\(a Uint8Array\\), got ${got}`));
        return true;
      });
    }
    t.diagnostic('nothing crossed');
    assert.equal(wire().length, before);
  });
}

for (const mode of MODES) {
  describe(`bytes through the preload and the bridge: ${mode.name}`, () => {
    let session;
    let todos;
    before(async () => {
      session = await startSession();
      todos = session.open(mode.window).page.global.todos;
    });
    after(async () => {
      await session.close();
    });
    roundTrips(() => todos, () => session.rust.toRust);
  });
}

describe('bytes through the browser client', () => {
  const browser = realBrowserClient();
  roundTrips(browser.api, browser.sent);
});
