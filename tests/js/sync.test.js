'use strict';
// Sync calls (`#[sync]`, Electron's ipcRenderer.sendSync / event.returnValue) from the generated
// preload, through the generated bridge, to a real Rust main. The bridge runs in a worker thread
// (Electron's main process) and the window in this thread, so a sync call really blocks the page
// while the bridge and the Rust main work (support/processes.js).

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { startProcesses } = require('./support/processes');

const plain = (value) => JSON.parse(JSON.stringify(value));
const DEADLINE_MS = 1000; // `#[sync(timeout_ms = 1000)]` on Todos::lookup

const MODES = [
  { name: 'context isolation, Electron 35+ (executeInMainWorld)', window: { contextIsolated: true }, realErrors: true },
  { name: 'context isolation, older Electron (exposeInMainWorld only)', window: { contextIsolated: true, executeInMainWorld: false }, realErrors: false },
  { name: 'no context isolation', window: { contextIsolated: false }, realErrors: true },
];

/** Calls `f` and returns what it threw (failing when it returned). */
function thrown(f) {
  try {
    f();
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to throw');
}

for (const mode of MODES) {
  describe(`sync calls: ${mode.name}`, () => {
    let processes;
    let window;
    let todos;

    before(async () => {
      processes = await startProcesses();
      window = processes.open(mode.window);
      todos = window.page.global.todos;
    });
    after(async () => {
      await processes.close();
    });

    it('returns the value itself, not a promise, while the page waits', async () => {
      const added = await todos.add('read the manual');
      // A timer due before the answer cannot run while the page is blocked.
      let timerRan = false;
      setTimeout(() => { timerRan = true; }, 0);
      const started = Date.now();
      const found = todos.lookup(added.id, 200);
      const waited = Date.now() - started;
      assert.equal(timerRan, false, 'the page was blocked: its timer waited');
      assert.ok(waited >= 190, `blocked for the handler's 200 ms (${waited} ms)`);
      assert.equal(typeof found.then, 'undefined');
      assert.deepEqual(plain(found), { id: added.id, title: 'read the manual', done: false });
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(timerRan, true);
      // On the wire it is an invoke with the contract's deadline, naming the window.
      const { toRust } = await processes.look();
      const frame = toRust.filter((f) => f.t === 'invoke' && f.ch === 'todos:lookup').pop();
      assert.deepEqual(frame.args, [added.id, 200]);
      assert.equal(frame.timeout_ms, DEADLINE_MS);
      assert.equal(frame.sender.id, window.webContents.id);
    });

    it('throws the application error the handler returned', () => {
      const error = thrown(() => todos.lookup(4242, 0));
      assert.equal(error.name, 'IpcAppError');
      assert.equal(error.channel, 'todos:lookup');
      assert.deepEqual(plain(error.data), { kind: 'NotFound', id: 4242 });
      if (mode.realErrors) assert.ok(error instanceof window.page.global.Error, 'an Error of the page');
    });

    it('past the deadline: `timeout` at the deadline, and the handler is cancelled', async () => {
      const before = plain(await todos.stats());
      const started = Date.now();
      const error = thrown(() => todos.lookup(1, 5000));
      const waited = Date.now() - started;
      assert.equal(error.name, 'IpcFrameworkError');
      assert.equal(error.code, 'timeout');
      assert.ok(waited >= DEADLINE_MS - 20 && waited < 3000, `answered at the deadline (${waited} ms)`);
      // Main dropped the handler (it would have slept 5 s).
      for (let i = 0; i < 100 && plain(await todos.stats()).cancelled === before.cancelled; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(plain(await todos.stats()).cancelled, before.cancelled + 1);
      // Async calls before and after keep working.
      assert.equal(await todos.slow(1), 1);
    });

    it('a wrong argument is a TypeError and nothing crosses', async () => {
      const before = processes.ipcMain.received.length;
      // contextBridge.exposeInMainWorld passes a thrown error's message only.
      const typeError = mode.realErrors ? 'TypeError' : 'Error';
      const error = thrown(() => todos.lookup('1', 0));
      assert.equal(error.name, typeError);
      assert.match(error.message, /todos\.lookup: argument 1 \(id\) must be an integer/);
      const arity = thrown(() => todos.lookup(1));
      assert.equal(arity.name, typeError);
      assert.match(arity.message, /expects 2 arguments/);
      assert.equal(processes.ipcMain.received.length, before);
    });
  });
}

describe('sync calls: when the Rust main does not answer', () => {
  let processes;
  let todos;

  before(async () => {
    processes = await startProcesses();
    todos = processes.open({ contextIsolated: true }).page.global.todos;
    await todos.add('one');
  });
  after(async () => {
    await processes.pause(false);
    await processes.close();
  });

  it('the bridge answers `timeout` at the deadline itself, and the page goes on', async () => {
    await processes.pause(true);
    const started = Date.now();
    const error = thrown(() => todos.lookup(1, 0));
    const waited = Date.now() - started;
    assert.equal(error.code, 'timeout');
    assert.ok(waited >= DEADLINE_MS - 20 && waited < 3000, `answered at the deadline (${waited} ms)`);
    await processes.pause(false);
    // The main catches up (the cancel went after the call) and serves again.
    assert.deepEqual(plain(todos.lookup(1, 0)), { id: 1, title: 'one', done: false });
  });
});

describe('sync calls: refused before they reach the Rust main', () => {
  let processes;

  before(async () => {
    processes = await startProcesses();
  });
  after(async () => {
    await processes.close();
  });

  it('a page of an origin the bridge does not allow gets `forbidden` at once', async () => {
    const stranger = processes.open({ url: 'https://evil.example/', origin: 'https://evil.example' });
    const error = thrown(() => stranger.page.global.todos.lookup(1, 0));
    assert.equal(error.code, 'forbidden');
    const { toRust } = await processes.look();
    assert.equal(toRust.filter((f) => f.t === 'invoke' && f.ch === 'todos:lookup').length, 0);
  });
});

describe('sync calls: when the bridge is gone', () => {
  let processes;
  let todos;

  before(async () => {
    processes = await startProcesses();
    todos = processes.open({ contextIsolated: true }).page.global.todos;
    await todos.add('one');
  });
  after(async () => {
    await processes.close();
  });

  it('a disposed bridge still answers (`disconnected`): Electron never answers a channel nobody listens to', async () => {
    await processes.dispose();
    const started = Date.now();
    const error = thrown(() => todos.lookup(1, 0));
    assert.equal(error.code, 'disconnected');
    assert.ok(Date.now() - started < 1000, 'at once');
    const { errors } = await processes.look();
    assert.deepEqual(errors.filter((e) => e.includes('returnValue set twice')), []);
  });
});
