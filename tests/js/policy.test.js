'use strict';
// The contract's `#[policy(...)]` mirrored in the generated JavaScript, with a real Rust main:
// the examples' `todos.purge` is declared `#[policy(native)]` or `#[policy(window, origin =
// "app://todos", main_frame)]`. A page of another origin does not see it in the preload's API;
// an iframe that calls it anyway is refused by bridge.js before anything reaches main; and a
// bridge that forwards it regardless is refused again by main.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { eventually } = require('./support/setup');
const { startSession, tappedRustMain, frameBytes } = require('./support/session');

const PURGE_RULE = '#[policy(native)] or #[policy(window, origin = "app://todos", main_frame)]';

describe('policy: the preload and the bridge mirror the contract', () => {
  let session;
  before(async () => {
    session = await startSession({ allowedOrigins: ['app://todos', 'app://other'] });
  });
  after(async () => {
    await session.close();
  });

  it('shows a method only to pages of an origin its policy admits', async () => {
    const own = session.open();
    const other = session.open({ url: 'app://other/index.html', origin: 'app://other' });
    assert.equal(typeof own.page.global.todos.purge, 'function');
    assert.equal(own.evaluate('typeof globalThis.todos.purge'), 'function');
    assert.equal(other.evaluate('typeof globalThis.todos.purge'), 'undefined');
    assert.ok(!Object.keys(other.page.global.todos).includes('purge'));
    // Everything without a policy is there for both.
    assert.equal(other.evaluate('typeof globalThis.todos.list'), 'function');
    assert.equal((await other.page.global.todos.list()).length, 0);
    assert.equal(await own.page.global.todos.purge(), 0);
  });

  it('refuses a main-frame-only method to an iframe in the bridge, before main', async () => {
    const window = session.open();
    const todos = window.page.global.todos;
    const added = await todos.add('done soon');
    await todos.toggle(added.id);
    window.enterSubframe('app://todos/widget.html', 'app://todos');
    const sentBefore = session.rust.toRust.length;
    await assert.rejects(todos.purge(), (error) => {
      assert.equal(error.code, 'forbidden');
      assert.equal(error.rule, PURGE_RULE);
      assert.match(error.reason, /a subframe of app:\/\/todos does not meet/);
      return true;
    });
    assert.ok(
      !session.rust.toRust.slice(sentBefore).some((frame) => frame.ch === 'todos:purge'),
      'the refused call reached main',
    );
    // From its main frame it may.
    window.enterSubframe(null);
    assert.equal(await todos.purge(), 1);
  });
});

describe('policy: main checks again when the bridge is bypassed', () => {
  it('refuses a bridge that forwards an iframe\'s call, naming the rule', async () => {
    const rust = tappedRustMain();
    const send = (frame) => rust.transport.writable.write(frameBytes(frame));
    try {
      send({ t: 'hello', protocol: 1, role: 'bridge', codec: 'msgpack', label: 'careless bridge', contracts: {} });
      await eventually(() => rust.fromRust.some((frame) => frame.t === 'hello'), 'main\'s hello');
      const sender = (mainFrame) => ({ id: 3, url: 'app://todos/index.html', origin: 'app://todos', main_frame: mainFrame });
      send({ t: 'invoke', id: 1, ch: 'todos:purge', args: [], sender: sender(false) });
      send({ t: 'invoke', id: 2, ch: 'todos:purge', args: [], sender: { ...sender(true), origin: 'app://other', url: 'app://other/' } });
      send({ t: 'invoke', id: 3, ch: 'todos:purge', args: [], sender: sender(true) });
      await eventually(() => rust.fromRust.filter((frame) => frame.t === 'reply' || frame.t === 'error').length >= 3, 'three answers');
      const answer = (id) => rust.fromRust.find((frame) => frame.id === id);
      for (const id of [1, 2]) {
        assert.equal(answer(id).error.code, 'forbidden', JSON.stringify(answer(id)));
        assert.equal(answer(id).error.rule, PURGE_RULE);
      }
      assert.equal(answer(3).ok, 0, JSON.stringify(answer(3)));
    } finally {
      rust.transport.writable.end();
      rust.child.kill();
    }
  });
});
