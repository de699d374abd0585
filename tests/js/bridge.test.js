'use strict';
// The generated bridge.js against a scripted peer playing the Rust main, for what the real main
// cannot show yet (events addressed with `to`, refusals at the handshake, lost connections) and
// for the bridge's own rules (origins, registration, disposal).

const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');
const { describe, it } = require('node:test');

const { eventually, generate } = require('./support/setup');
const { createWindow, FakeIpcMain } = require('./support/electron');
const { frameBytes, frameReader, startSession } = require('./support/session');

const bindings = generate();
const { createBridge, CONTRACTS, INVOKE_CHANNELS, SEND_CHANNELS, EVENT_CHANNELS } = require(bindings.path('bridge.js'));
const preloadSource = bindings.read('preload.js');
const plain = (value) => JSON.parse(JSON.stringify(value));

/** A scripted main: records the bridge's frames; `reply(frame)` sends one back. */
function fakeMain() {
  const readable = new EventEmitter();
  const received = [];
  const main = new EventEmitter();
  const read = frameReader((frame) => {
    received.push(frame);
    main.emit('frame', frame);
  });
  let ended = false;
  const writable = {
    write(bytes) { read(bytes); return true; },
    end() { ended = true; },
  };
  return Object.assign(main, {
    transport: { readable, writable },
    received,
    ended: () => ended,
    reply(frame) { readable.emit('data', frameBytes(frame)); },
    hello(contracts = CONTRACTS, extra = {}) {
      this.reply({ t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts, renderer: 7, max_frame: 4194304, ...extra });
    },
    /** Answers every invoke with `answer(frame)` (a reply body, or undefined for no answer). */
    serve(answer) {
      this.on('frame', (frame) => {
        if (frame.t !== 'invoke') return;
        const body = answer(frame);
        if (body !== undefined) setImmediate(() => this.reply({ t: 'reply', id: frame.id, ...body }));
      });
    },
  });
}

function setup(options = {}) {
  const main = fakeMain();
  const ipcMain = new FakeIpcMain();
  const errors = [];
  const dispose = createBridge({
    ipcMain,
    transport: main.transport,
    allowedOrigins: ['app://todos'],
    onError: (error) => errors.push(error),
    ...options,
  });
  const open = (windowOptions = {}) => createWindow({ ipcMain, preloadSource, ...windowOptions });
  return { main, ipcMain, dispose, errors, open };
}

describe('bridge', () => {
  it('says hello with the contracts, a label and its frame limit', async () => {
    const { main, dispose } = setup({ label: 'window-bridge' });
    assert.deepEqual(main.received[0], {
      t: 'hello', protocol: 1, role: 'bridge', codec: 'json', contracts: CONTRACTS, label: 'window-bridge', max_frame: 4194304,
    });
    main.hello();
    assert.deepEqual(plain(await dispose.ready), { renderer: 7, contracts: CONTRACTS });
    dispose();
  });

  it('registers exactly the declared channels, and its disposer removes them all', async () => {
    const { main, ipcMain, dispose } = setup();
    main.hello();
    await dispose.ready;
    assert.deepEqual([...ipcMain.handlers.keys()].sort(), [...INVOKE_CHANNELS].sort());
    for (const channel of SEND_CHANNELS) assert.equal(ipcMain.listenerCount(channel), 1);
    for (const channel of EVENT_CHANNELS) assert.equal(ipcMain.listenerCount(channel), 0);
    assert.equal(ipcMain.listenerCount('__ipc:cancel'), 1);
    dispose();
    assert.equal(ipcMain.handlers.size, 0);
    assert.deepEqual(ipcMain.eventNames(), []);
    assert.deepEqual(main.received.at(-1), { t: 'goodbye', reason: 'bridge disposed' });
    assert.ok(main.ended());
    assert.equal((await dispose.closed).code, 'disconnected');
  });

  it('registers all or nothing', () => {
    const ipcMain = new FakeIpcMain();
    ipcMain.handle('todos:list', () => null);
    assert.throws(
      () => createBridge({ ipcMain, transport: fakeMain().transport, allowedOrigins: ['*'] }),
      /second handler for 'todos:list'/,
    );
    assert.deepEqual([...ipcMain.handlers.keys()], ['todos:list']);
    assert.deepEqual(ipcMain.eventNames(), []);
  });

  it('requires an origin policy', () => {
    assert.throws(
      () => createBridge({ ipcMain: new FakeIpcMain(), transport: fakeMain().transport }),
      /allowedOrigins must be/,
    );
  });

  it('queues calls made before the handshake and sends them after it', async () => {
    const { main, dispose, open } = setup();
    main.serve((frame) => ({ ok: { id: 1, title: frame.args[0], done: false } }));
    const todos = open().page.global.todos;
    const call = todos.add('early');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(main.received.length, 1, 'only the hello before the handshake');
    main.hello();
    assert.deepEqual(plain(await call), { id: 1, title: 'early', done: false });
    assert.equal(main.received[1].t, 'invoke');
    dispose();
  });

  it('refuses frames from origins that are not allowed, before anything is forwarded', async () => {
    const { main, dispose, open, errors } = setup({
      allowedOrigins: (origin, url) => origin === 'app://todos' && url.endsWith('/index.html'),
    });
    main.hello();
    await dispose.ready;
    main.serve(() => ({ ok: [] }));
    const evil = open({ url: 'https://evil.example/page', origin: 'https://evil.example' }).page.global.todos;
    const error = await evil.list().then(() => assert.fail('resolved'), (e) => e);
    assert.equal(error.name, 'IpcFrameworkError');
    assert.equal(error.code, 'forbidden');
    assert.equal(error.reason, 'origin https://evil.example is not allowed');
    evil.log('sneaky');
    await eventually(() => errors.length === 1, 'the refused send to be reported');
    assert.equal(errors[0].code, 'forbidden');
    const other = open({ url: 'app://todos/other.html' }).page.global.todos;
    await assert.rejects(other.list(), { code: 'forbidden' });
    // A frame whose window navigated away (Electron gives a null senderFrame) is refused too.
    const gone = open();
    gone.frame = null;
    await assert.rejects(gone.page.global.todos.list(), { code: 'forbidden', reason: 'the sending frame is gone' });
    assert.equal(main.received.filter((f) => f.t !== 'hello').length, 0);
    const good = open().page.global.todos;
    assert.deepEqual(plain(await good.list()), []);
    dispose();
  });

  it('derives the origin from the frame URL when Electron gives none', async () => {
    const { main, dispose, open } = setup({ allowedOrigins: ['file://', 'app://todos'] });
    main.hello();
    main.serve(() => ({ ok: [] }));
    const window = open({ url: 'file:///opt/app/index.html', origin: '' });
    await window.page.global.todos.list();
    assert.deepEqual(main.received.at(-1).sender, { id: window.webContents.id, url: 'file:///opt/app/index.html', origin: 'file://' });
    const custom = open({ url: 'app://todos/index.html', origin: 'null' });
    await custom.page.global.todos.list();
    assert.equal(main.received.at(-1).sender.origin, 'app://todos');
    dispose();
  });

  it('delivers events to the window named by `to`, or to every window it has seen', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    main.serve(() => ({ ok: [] }));
    const a = open();
    const b = open();
    const never = open(); // never calls, so the bridge has not seen it
    const got = { a: [], b: [], never: [] };
    a.page.global.todos.onAnnounce((message) => got.a.push(message));
    b.page.global.todos.onAnnounce((message) => got.b.push(message));
    never.page.global.todos.onAnnounce((message) => got.never.push(message));
    await a.page.global.todos.list();
    await b.page.global.todos.list();

    main.reply({ t: 'event', ch: 'todos:announce', args: ['to a'], to: a.webContents.id });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to b'], to: [b.webContents.id] });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to all'] });
    main.reply({ t: 'event', ch: 'todos:undeclared', args: ['no'] });
    await eventually(() => got.a.length === 2 && got.b.length === 2, 'the events');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(got, { a: ['to a', 'to all'], b: ['to b', 'to all'], never: [] });

    // A window named by `to` that has not called yet is found through webContents.fromId.
    dispose();
    const second = setup({ webContents: { fromId: (id) => (id === never.webContents.id ? never.webContents : null) } });
    second.main.hello();
    await second.dispose.ready;
    second.main.reply({ t: 'event', ch: 'todos:announce', args: ['found'], to: never.webContents.id });
    await eventually(() => got.never.length === 1, 'the addressed event');
    second.dispose();
  });

  it('forwards a cancel with the wire id and cancels the calls of a destroyed window', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    const window = open();
    const todos = window.page.global.todos;
    const controller = window.evaluate('new AbortController()');
    const aborted = todos.slow(1000, { signal: controller.signal });
    // Its window is destroyed below; Electron would drop the answer, this model delivers it.
    const pending = todos.slow(2000).catch((error) => error);
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 2, 'both invokes');
    const [first, second] = main.received.filter((f) => f.t === 'invoke');
    controller.abort();
    await assert.rejects(aborted, { code: 'cancelled' });
    await eventually(() => main.received.some((f) => f.t === 'cancel'), 'the cancel');
    assert.deepEqual(main.received.filter((f) => f.t === 'cancel'), [{ t: 'cancel', id: first.id }]);

    window.webContents.destroy();
    assert.deepEqual(main.received.slice(-2), [{ t: 'cancel', id: second.id }, { t: 'detach', sender: window.webContents.id }]);
    assert.equal((await pending).code, 'cancelled');
    // The bridge forgot the call: a late reply is ignored.
    main.reply({ t: 'reply', id: second.id, ok: 2000 });
    dispose();
  });

  it('abandons the old call when a reloaded page reuses a call id', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    const window = open();
    const before = window.ipcRenderer.invoke('todos:slow', 1, null, 1000);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the first invoke');
    const after = window.ipcRenderer.invoke('todos:slow', 1, null, 2000);
    assert.equal((await before).error.code, 'cancelled');
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 2, 'the second invoke');
    const [first, second] = main.received.filter((f) => f.t === 'invoke');
    assert.ok(main.received.some((f) => f.t === 'cancel' && f.id === first.id));
    main.reply({ t: 'reply', id: second.id, ok: 2000 });
    assert.deepEqual(await after, { ok: 2000 });
    dispose();
  });

  it('refuses a main with another version of the contract', async () => {
    const { main, dispose, open } = setup();
    const todos = open().page.global.todos;
    const call = todos.list();
    main.hello({ todos: '0000000000000000' });
    await assert.rejects(dispose.ready, { code: 'version_mismatch' });
    const error = await call.then(() => assert.fail('resolved'), (e) => e);
    assert.equal(error.code, 'version_mismatch');
    assert.equal(error.ours, `contract \`todos\` ${CONTRACTS.todos}`);
    assert.equal(error.theirs, 'contract `todos` 0000000000000000');
    await assert.rejects(todos.list(), { code: 'version_mismatch' });
    dispose();
  });

  it('reports a refusal at the handshake', async () => {
    const { main, dispose } = setup();
    main.reply({ t: 'error', error: { code: 'protocol', message: 'protocol error: no', reason: 'no' } });
    await assert.rejects(dispose.ready, { code: 'protocol', message: 'protocol error: no' });
    dispose();
  });

  it('fails pending calls when the connection ends, and later calls at once', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    const todos = open().page.global.todos;
    const call = todos.slow(1000);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the invoke');
    main.transport.readable.emit('end');
    await assert.rejects(call, { code: 'disconnected' });
    await assert.rejects(todos.list(), { code: 'disconnected' });
    dispose();
  });

  it('closes on an oversized frame from the main without reading it', async () => {
    const { main, dispose, open } = setup({ maxFrame: 256 });
    main.hello();
    await dispose.ready;
    const todos = open().page.global.todos;
    const call = todos.slow(1);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the invoke');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1000, 0);
    main.transport.readable.emit('data', header);
    await assert.rejects(call, { code: 'too_large', size: 1000, limit: 256 });
    dispose();
  });

  it('answers a call above the main\'s frame limit locally', async () => {
    const { main, dispose, open } = setup();
    main.hello(CONTRACTS, { max_frame: 100 });
    await dispose.ready;
    const todos = open().page.global.todos;
    await assert.rejects(todos.add('x'.repeat(200)), { code: 'too_large', limit: 100 });
    assert.equal(main.received.filter((f) => f.t === 'invoke').length, 0);
    dispose();
  });
});

describe('bridge with a real Rust main', () => {
  it('spawns the Rust main itself with `command` and stops it on disposal', async () => {
    const { binaries } = require('./support/setup');
    const ipcMain = new FakeIpcMain();
    const dispose = createBridge({ ipcMain, command: binaries().todosMain, allowedOrigins: ['app://todos'] });
    await dispose.ready;
    const todos = createWindow({ ipcMain, preloadSource }).page.global.todos;
    assert.deepEqual(plain(await todos.add('spawned')), { id: 1, title: 'spawned', done: false });
    const exited = new Promise((resolve) => dispose.child.on('exit', resolve));
    dispose();
    assert.equal(await exited, 0, 'the Rust main exits when its stdin closes');
  });

  it('cancels the handler of a destroyed window in the Rust main', async () => {
    const session = await startSession();
    try {
      const window = session.open();
      const todos = window.page.global.todos;
      const call = todos.slow(10000).catch((error) => error);
      await eventually(() => session.rust.toRust.some((f) => f.t === 'invoke' && f.ch === 'todos:slow'), 'the invoke');
      window.webContents.destroy();
      const observer = session.open().page.global.todos;
      await eventually(async () => plain(await observer.stats()).cancelled === 1, 'the handler to be cancelled');
      assert.equal((await call).code, 'cancelled');
    } finally {
      await session.close();
    }
  });

  it('broadcasts the Rust main\'s events to every window it has seen', async () => {
    const session = await startSession();
    try {
      const a = session.open({ contextIsolated: true });
      const b = session.open({ contextIsolated: false });
      const got = { a: [], b: [] };
      a.page.global.todos.onChanged((todo) => got.a.push(todo.title));
      b.page.global.todos.onChanged((todo) => got.b.push(todo.title));
      await b.page.global.todos.list();
      await a.page.global.todos.add('seen by both');
      await eventually(() => got.a.length === 1 && got.b.length === 1, 'both windows to hear the event');
      assert.deepEqual(got, { a: ['seen by both'], b: ['seen by both'] });
    } finally {
      await session.close();
    }
  });
});
