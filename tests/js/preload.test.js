'use strict';
// The generated preload.js in a modelled Electron renderer (page world + preload world), through
// the generated bridge.js, against a real Rust main serving the examples' Todos contract.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { eventually } = require('./support/setup');
const { startSession } = require('./support/session');

const plain = (value) => JSON.parse(JSON.stringify(value));

const MODES = [
  {
    name: 'context isolation, Electron 35+ (executeInMainWorld)',
    window: { contextIsolated: true },
    realErrors: true,
    signals: true,
  },
  {
    name: 'context isolation, older Electron (exposeInMainWorld only)',
    window: { contextIsolated: true, executeInMainWorld: false },
    realErrors: false,
    signals: false,
  },
  {
    name: 'no context isolation',
    window: { contextIsolated: false },
    realErrors: true,
    signals: true,
  },
];

for (const mode of MODES) {
  describe(`preload: ${mode.name}`, () => {
    let session;
    let window;
    let todos;
    const stats = async () => plain(await todos.stats());

    before(async () => {
      session = await startSession();
      window = session.open(mode.window);
      todos = window.page.global.todos;
    });
    after(async () => {
      await session.close();
    });

    it('exposes one function per declared channel, frozen and read-only', () => {
      assert.equal(typeof todos, 'object');
      assert.deepEqual(Object.keys(todos).sort(), [
        'add', 'attach', 'attachment', 'chat', 'crash', 'due', 'export', 'handleConfirm', 'import', 'list', 'log', 'lookup', 'measure', 'notebooksOpen',
        'onAnnounce', 'onChanged', 'onIntroduce', 'onScheduled', 'openNotebook', 'postpone', 'purge', 'renameAll', 'schedule', 'setView',
        'slow', 'stats', 'toggle', 'view', 'watch',
      ]);
      for (const name of Object.keys(todos)) assert.equal(typeof todos[name], 'function');
      assert.ok(window.evaluate('Object.isFrozen(window.todos)'.replace('window.', 'globalThis.')));
      window.evaluate('globalThis.todos = 1; try { delete globalThis.todos; } catch (_) {}');
      assert.equal(typeof window.page.global.todos, 'object');
      window.evaluate('try { globalThis.todos.add = null; } catch (_) {}');
      assert.equal(typeof window.page.global.todos.add, 'function');
    });

    it('invokes: results come back as values of the page', async () => {
      const first = await todos.add('buy milk');
      assert.deepEqual(plain(first), { id: 1, title: 'buy milk', done: false });
      const toggled = await todos.toggle(first.id);
      assert.equal(toggled.done, true);
      const listed = await todos.list();
      assert.deepEqual(plain(listed), [{ id: 1, title: 'buy milk', done: true }]);
      // The invoke frame carried the caller's identity for the Rust side.
      const frame = session.rust.toRust.find((f) => f.t === 'invoke' && f.ch === 'todos:add');
      assert.deepEqual(frame.args, ['buy milk']);
      assert.deepEqual(frame.sender, { id: window.webContents.id, url: 'app://todos/index.html', origin: 'app://todos', main_frame: true });
    });

    it('names the calling window to the Rust handlers', async () => {
      // The handlers' `Caller` carries the frame's origin the bridge sent as `sender`.
      assert.deepEqual((await stats()).origins, ['app://todos']);
    });

    it('rejects with the typed application error and its data', async () => {
      const error = await todos.toggle(999).then(() => assert.fail('resolved'), (e) => e);
      assert.equal(error.name, 'IpcAppError');
      assert.equal(error.channel, 'todos:toggle');
      assert.deepEqual(plain(error.data), { kind: 'NotFound', id: 999 });
      assert.match(error.message, /todos:toggle failed/);
      if (mode.realErrors) {
        assert.ok(error instanceof window.page.global.Error, 'an Error of the page');
        assert.ok(typeof error.stack === 'string');
      } else {
        assert.ok(window.page.global.Object.isFrozen(error), 'a frozen plain copy');
      }
    });

    it('rejects with a framework error, distinguishable from application errors', async () => {
      const error = await todos.crash().then(() => assert.fail('resolved'), (e) => e);
      assert.equal(error.name, 'IpcFrameworkError');
      assert.equal(error.code, 'handler_panicked');
      assert.equal(error.channel, 'todos:crash');
      assert.match(error.reason, /always panics/);
      assert.equal(error.data, undefined);
      if (mode.realErrors) assert.ok(error instanceof window.page.global.Error);
      // The main keeps serving.
      assert.equal(plain(await todos.list()).length, 1);
    });

    it('checks arguments before anything crosses, with a TypeError naming the method and parameter', () => {
      const before = session.ipcMain.received.length;
      // Through contextBridge.exposeInMainWorld a thrown error becomes a plain Error (message only).
      const ErrorType = mode.realErrors ? window.page.global.TypeError : window.page.global.Error;
      const throwsTypeError = (call, pattern) => assert.throws(call, (error) => {
        assert.ok(error instanceof ErrorType, `${error} is a ${ErrorType.name} of the page`);
        assert.match(error.message, pattern);
        return true;
      });
      throwsTypeError(() => todos.add(42), /^todos\.add: argument 1 \(title\) must be a string, got the number 42$/);
      throwsTypeError(() => todos.add(), /^todos\.add expects 1 argument \(title\) and an optional options object, got 0 arguments$/);
      throwsTypeError(() => todos.add('a', {}, 'c'), /todos\.add expects 1 argument/);
      throwsTypeError(() => todos.toggle(-1), /argument 1 \(id\) must be an integer from 0 to 4294967295, got the number -1/);
      throwsTypeError(() => todos.toggle(1.5), /got the number 1\.5/);
      throwsTypeError(() => todos.toggle('1'), /got a string/);
      throwsTypeError(() => todos.add('x', { timeout: 5 }), /unknown option `timeout`/);
      throwsTypeError(() => todos.add('x', { timeoutMs: -1 }), /timeoutMs must be a non-negative number/);
      throwsTypeError(() => todos.log(), /^todos\.log expects 1 argument \(line\), got 0$/);
      throwsTypeError(() => todos.log(null), /argument 1 \(line\) must be a string, got null/);
      throwsTypeError(() => todos.onChanged('not a function'), /todos\.onChanged expects a listener function and an optional options object \{ onLag \}/);
      throwsTypeError(() => todos.onChanged(), /a listener function/);
      throwsTypeError(() => todos.onChanged(() => {}, { onLag: 'no' }), /options\.onLag must be a function/);
      throwsTypeError(() => todos.toggle(NaN), /argument 1 \(id\) must be an integer from 0 to 4294967295, got the number NaN/);
      assert.equal(session.ipcMain.received.length, before, 'nothing reached the main process');
    });

    it('sends fire-and-forget messages', async () => {
      assert.equal(todos.log('hello from the page'), undefined);
      await eventually(async () => (await stats()).logs.includes('hello from the page'), 'the log line');
      const frame = session.rust.toRust.find((f) => f.t === 'send');
      assert.deepEqual(frame.args, ['hello from the page']);
      assert.equal(frame.sender.origin, 'app://todos');
    });

    it('delivers events with only their parameters, and a disposer that unsubscribes', async () => {
      const received = [];
      const dispose = todos.onChanged(function () { received.push(Array.from(arguments)); });
      assert.equal(typeof dispose, 'function');
      assert.equal(window.ipcRenderer.listenerCount('todos:changed'), 1);
      const todo = await todos.add('from an event');
      await eventually(() => received.length === 1, 'the changed event');
      assert.equal(received[0].length, 1, 'no Electron event object');
      assert.deepEqual(plain(received[0][0]), plain(todo));

      dispose();
      assert.equal(window.ipcRenderer.listenerCount('todos:changed'), 0);
      dispose(); // idempotent
      assert.equal(window.ipcRenderer.listenerCount('todos:changed'), 0);
      await todos.add('after disposal');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(received.length, 1);
    });

    it('disposes each of several subscriptions of the same listener separately', () => {
      const listener = () => {};
      const first = todos.onAnnounce(listener);
      const second = todos.onAnnounce(listener);
      assert.equal(window.ipcRenderer.listenerCount('todos:announce'), 2);
      first();
      assert.equal(window.ipcRenderer.listenerCount('todos:announce'), 1);
      second();
      assert.equal(window.ipcRenderer.listenerCount('todos:announce'), 0);
    });

    it('times out locally and cancels the handler in the Rust main', async () => {
      const { cancelled } = await stats();
      const started = Date.now();
      const error = await todos.slow(10000, { timeoutMs: 100 }).then(() => assert.fail('resolved'), (e) => e);
      assert.equal(error.name, 'IpcFrameworkError');
      assert.equal(error.code, 'timeout');
      assert.equal(error.afterMs, 100);
      assert.ok(Date.now() - started < 5000);
      const frame = session.rust.toRust.filter((f) => f.t === 'invoke' && f.ch === 'todos:slow').pop();
      assert.equal(frame.timeout_ms, 100);
      await eventually(async () => (await stats()).cancelled === cancelled + 1, 'the handler to be cancelled');
    });

    if (mode.signals) {
      it('aborts through an AbortSignal: rejects locally and cancels the handler', async () => {
        const { cancelled } = await stats();
        const controller = window.evaluate('new AbortController()');
        const call = todos.slow(10000, { signal: controller.signal });
        await eventually(() => session.rust.toRust.some((f) => f.t === 'invoke' && f.ch === 'todos:slow' && f.timeout_ms === undefined), 'the invoke frame');
        controller.abort();
        const error = await call.then(() => assert.fail('resolved'), (e) => e);
        assert.equal(error.name, 'IpcFrameworkError');
        assert.equal(error.code, 'cancelled');
        await eventually(() => session.rust.toRust.some((f) => f.t === 'cancel'), 'the cancel frame');
        await eventually(async () => (await stats()).cancelled === cancelled + 1, 'the handler to be cancelled');
      });

      it('does not send a call whose signal is already aborted', async () => {
        const before = session.ipcMain.received.length;
        const controller = window.evaluate('new AbortController()');
        controller.abort();
        const error = await todos.add('never', { signal: controller.signal }).then(() => assert.fail('resolved'), (e) => e);
        assert.equal(error.code, 'cancelled');
        assert.equal(session.ipcMain.received.length, before);
      });
    } else {
      it('refuses an AbortSignal, which exposeInMainWorld flattens, with an explanation', () => {
        const controller = window.evaluate('new AbortController()');
        assert.throws(() => todos.slow(10, { signal: controller.signal }), /options\.signal must be an AbortSignal.*Electron 35/);
      });
    }

    it('gives the page no way to reach ipcRenderer or an undeclared channel', async () => {
      const page = window.page.global;
      for (const name of ['ipcRenderer', 'require', 'electron', 'process', 'module']) {
        assert.equal(window.evaluate(`typeof globalThis.${name}`), 'undefined', name);
      }
      // Walk everything reachable from window.todos: no Electron object is there.
      const seen = new Set();
      const forbidden = [window.ipcRenderer, window.webContents];
      const walk = (value, path) => {
        if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
        seen.add(value);
        assert.ok(!forbidden.includes(value), `${path} is an Electron object`);
        for (const key of Reflect.ownKeys(value)) {
          const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
          if (descriptor && 'value' in descriptor) walk(descriptor.value, `${path}.${String(key)}`);
        }
      };
      walk(page.todos, 'todos');
      // The functions' sources do not expose it either.
      for (const name of Object.keys(page.todos)) {
        assert.doesNotMatch(Function.prototype.toString.call(page.todos[name]), /ipcRenderer/);
      }

      // Even a compromised preload reaches only the declared channels: the bridge registered no
      // handler or listener for anything else, so nothing is forwarded to the Rust main.
      const framesBefore = session.rust.toRust.length;
      await assert.rejects(
        window.ipcRenderer.invoke('todos:undeclared', 1, null),
        /No handler registered for 'todos:undeclared'/,
      );
      window.ipcRenderer.send('todos:undeclared', 'x');
      window.ipcRenderer.send('todos:changed', 'x');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(session.rust.toRust.length, framesBefore);
    });
  });
}

describe('preload: generated with a forced isolation mode', () => {
  it('isolation "none" defines window.todos even where process.contextIsolated is true', async () => {
    const session = await startSession({ isolation: 'none' });
    try {
      // With isolation on, the preload's own window is the isolated world's.
      const window = session.open({ contextIsolated: true });
      assert.equal(typeof window.page.global.todos, 'undefined');
      assert.equal(typeof window.preload.global.todos, 'object');
    } finally {
      await session.close();
    }
  });

  it('isolation "isolated" uses contextBridge, which refuses a window without isolation', async () => {
    const session = await startSession({ isolation: 'isolated' });
    try {
      assert.throws(() => session.open({ contextIsolated: false }), /contextIsolation is enabled/);
      const window = session.open({ contextIsolated: true });
      assert.deepEqual(plain(await window.page.global.todos.list()), []);
    } finally {
      await session.close();
    }
  });
});
