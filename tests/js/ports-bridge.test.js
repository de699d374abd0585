'use strict';
// Ports, streams and requests from main (docs/PROTOCOL.md 7.1, 7.2) through the generated
// preload (page side, every isolation mode) and bridge.js (routing per window), against a
// scripted main speaking raw frames: streams read and left halfway, credits, uploads within
// credit, ports both ways, main's requests answered by the page, windows that go away or load
// another page, and the bad input of 7.1's table answered as it says.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');

const { eventually } = require('./support/setup');
const { createWindow, FakeIpcMain } = require('./support/electron');
const { portBindings, fakeMain, frameWhere, tick } = require('./support/peers');

const bindings = portBindings();
const { createBridge, CONTRACTS, REQUEST_CHANNELS, FRAME_CHANNEL } = require(bindings.path('bridge.js'));
const preloadSource = bindings.read('preload.js');
const plain = (value) => JSON.parse(JSON.stringify(value));
const todo = (id) => ({ id, title: `todo ${id}`, done: false });

const MODES = [
  { name: 'context isolation, Electron 35+', window: { contextIsolated: true }, copies: false },
  { name: 'context isolation, older Electron', window: { contextIsolated: true, executeInMainWorld: false }, copies: true },
  { name: 'no context isolation', window: { contextIsolated: false }, copies: false },
];

/** A bridge on a scripted main that said hello (with `hello`'s extra fields). */
async function setup(options = {}, hello = {}) {
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
  main.hello(CONTRACTS, hello);
  await dispose.ready;
  const taken = new Set();
  // `list` is answered at once: a window that called it is one the bridge (and main) knows.
  main.on('frame', (frame) => {
    if (frame.t === 'invoke' && frame.ch === 'todos:list') setImmediate(() => main.reply({ t: 'reply', id: frame.id, ok: [] }));
  });
  return {
    main,
    ipcMain,
    dispose,
    errors,
    open: (windowOptions = {}) => createWindow({ ipcMain, preloadSource, ...windowOptions }),
    /** A window that has called main once (main addresses windows it has heard from). */
    async known(windowOptions = {}) {
      const window = createWindow({ ipcMain, preloadSource, ...windowOptions });
      await window.page.global.todos.list();
      return window;
    },
    /** The bridge's next invoke of `channel` to main. */
    async invoked(channel) {
      const frame = await frameWhere(main.received, (f) => f.t === 'invoke' && f.ch === channel && !taken.has(f), `an invoke of ${channel}`);
      taken.add(frame);
      return frame;
    },
    /** Waits for a frame to main for which `match` holds. */
    sent: (match, what) => frameWhere(main.received, match, what),
  };
}

/** The page's iterator over a stream: `for await`'s, or the copy's own functions (older Electron). */
function iteratorOf(stream, mode) {
  return mode.copies ? { next: () => stream.next(), return: () => stream.return() } : stream[Symbol.asyncIterator]();
}

/** `window.todos.watch()` answered by main with a stream on port `port`. */
async function watched(bridge, window, port) {
  const call = window.page.global.todos.watch(10);
  const invoke = await bridge.invoked('todos:watch');
  bridge.main.reply({ t: 'reply', id: invoke.id, ok: { $ipc: 'stream', port }, ports: [port] });
  return call;
}

/** `window.todos.chat()` answered by main with a port `port`. */
async function chatted(bridge, window, port) {
  const call = window.page.global.todos.chat();
  const invoke = await bridge.invoked('todos:chat');
  bridge.main.reply({ t: 'reply', id: invoke.id, ok: { $ipc: 'port', port }, ports: [port] });
  return call;
}

for (const mode of MODES) {
  describe(`ports through the preload and the bridge: ${mode.name}`, () => {
    it('reads a stream, leaves it halfway (close "cancelled" to main) and grants credit at half the window', async () => {
      const bridge = await setup();
      const window = bridge.open(mode.window);
      const stream = await watched(bridge, window, 2);
      for (let i = 1; i <= 12; i++) bridge.main.reply({ t: 'port', port: 2, data: todo(i) });
      const iterator = iteratorOf(stream, mode);
      const seen = [];
      for (;;) {
        const step = await iterator.next();
        seen.push(step.value.id);
        if (seen.length === 10) {
          await iterator.return();
          break;
        }
      }
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await bridge.sent((f) => f.t === 'close', 'the close');
      assert.deepEqual(bridge.main.frames('credit', 'close'), [
        { t: 'credit', port: 2, n: 8 },
        { t: 'close', port: 2, reason: 'cancelled' },
      ]);
      bridge.main.reply({ t: 'port', port: 2, data: todo(13) });
      await tick(20);
      assert.equal(bridge.main.frames('credit', 'close', 'error').length, 2, 'nothing more: the rest is dropped');
      bridge.dispose();
    });

    it('keeps items the page has not read, and ends with the producer\'s error', async () => {
      const bridge = await setup();
      const window = bridge.open(mode.window);
      const stream = await watched(bridge, window, 2);
      for (let i = 1; i <= 3; i++) bridge.main.reply({ t: 'port', port: 2, data: todo(i) });
      bridge.main.reply({ t: 'close', port: 2, app: { kind: 'NotFound', id: 4 } });
      await tick(20);
      const iterator = iteratorOf(stream, mode);
      for (let i = 1; i <= 3; i++) assert.deepEqual(plain((await iterator.next()).value), todo(i));
      const error = await iterator.next().then(() => assert.fail('no error'), (e) => e);
      assert.equal(error.name, 'IpcAppError');
      assert.equal(error.channel, 'todos:watch');
      assert.deepEqual(plain(error.data), { kind: 'NotFound', id: 4 });
      assert.deepEqual(plain(await iterator.next()), { done: true });

      const broken = await watched(bridge, window, 4);
      bridge.main.reply({ t: 'close', port: 4, error: { code: 'handler_panicked', message: 'boom', reason: 'boom' } });
      const failure = await iteratorOf(broken, mode).next().then(() => assert.fail('no error'), (e) => e);
      assert.equal(failure.name, 'IpcFrameworkError');
      assert.equal(failure.code, 'handler_panicked');
      assert.deepEqual(bridge.main.frames('close', 'credit'), []);
      bridge.dispose();
    });

    it('uploads a stream argument within main\'s credit, on a port id of the bridge\'s', async () => {
      const bridge = await setup({}, { port_window: 2 });
      const window = bridge.open(mode.window);
      const call = window.page.global.todos.import(['a', 'b', 'c', 'd', 'e']);
      const invoke = await bridge.invoked('todos:import');
      assert.deepEqual(invoke.args, [{ $ipc: 'stream', port: 1 }]);
      assert.deepEqual(invoke.ports, [1]);
      await eventually(() => bridge.main.frames('port').length === 2, 'two items');
      await tick(20);
      assert.deepEqual(bridge.main.frames('port'), [{ t: 'port', port: 1, data: 'a' }, { t: 'port', port: 1, data: 'b' }]);
      bridge.main.reply({ t: 'credit', port: 1, n: 8 });
      await bridge.sent((f) => f.t === 'close' && f.port === 1, 'the end of the upload');
      assert.deepEqual(bridge.main.frames('port', 'close').map((f) => f.data || f.t), ['a', 'b', 'c', 'd', 'e', 'close']);
      bridge.main.reply({ t: 'reply', id: invoke.id, ok: 5 });
      assert.equal(await call, 5);
      bridge.dispose();
    });

    it('round-trips port messages, keeps those before the listener, and closes both ways', async () => {
      const bridge = await setup();
      const window = bridge.open(mode.window);
      const port = await chatted(bridge, window, 2);
      bridge.main.reply({ t: 'port', port: 2, data: 'early' });
      await tick(20);
      const got = [];
      port.onMessage((message) => got.push(message));
      assert.deepEqual(got, ['early']);
      port.postMessage('hello');
      await bridge.sent((f) => f.t === 'port', 'the message');
      assert.deepEqual(bridge.main.frames('port'), [{ t: 'port', port: 2, data: 'hello' }]);
      bridge.main.reply({ t: 'port', port: 2, data: 'HELLO' });
      await eventually(() => got.length === 2, 'the answer');
      assert.deepEqual(got, ['early', 'HELLO']);
      const closes = [];
      port.onClose((error) => closes.push(error));
      port.close();
      assert.deepEqual(closes, [null]);
      await bridge.sent((f) => f.t === 'close', 'the close');
      assert.deepEqual(bridge.main.frames('close'), [{ t: 'close', port: 2 }]);
      if (!mode.copies) assert.equal(port.closed, true);

      const other = await chatted(bridge, window, 4);
      const ended = new Promise((resolve) => other.onClose(resolve));
      bridge.main.reply({ t: 'close', port: 4, error: { code: 'disconnected', message: 'gone', reason: 'gone' } });
      const error = await ended;
      assert.equal(error.name, 'IpcFrameworkError');
      assert.equal(error.code, 'disconnected');
      bridge.dispose();
    });

    it('answers main\'s requests with the page\'s handler (value, no_handler, a throw, cancel, timeout)', async () => {
      const bridge = await setup();
      const window = await bridge.known(mode.window);
      const todos = window.page.global.todos;
      const replyTo = (id) => bridge.sent((f) => f.t === 'reply' && f.id === id, `the reply to ${id}`);
      await tick(20);
      bridge.main.reply({ t: 'invoke', id: 1, ch: 'todos:confirm', args: ['now?'], to: window.webContents.id });
      assert.equal((await replyTo(1)).error.code, 'no_handler');
      const signals = new Map();
      todos.handleConfirm((question, signal) => {
        signals.set(question, signal);
        if (question === 'crash?') throw new Error('no idea');
        if (question.startsWith('wait')) return new Promise(() => {});
        return question === 'yes?';
      });
      bridge.main.reply({ t: 'invoke', id: 2, ch: 'todos:confirm', args: ['yes?'], to: window.webContents.id });
      bridge.main.reply({ t: 'invoke', id: 3, ch: 'todos:confirm', args: ['crash?'], to: window.webContents.id });
      bridge.main.reply({ t: 'invoke', id: 4, ch: 'todos:confirm', args: ['wait, cancel'], to: window.webContents.id });
      bridge.main.reply({ t: 'invoke', id: 5, ch: 'todos:confirm', args: ['wait, time out'], timeout_ms: 30, to: window.webContents.id });
      assert.deepEqual(await replyTo(2), { t: 'reply', id: 2, ok: true });
      const panicked = await replyTo(3);
      assert.equal(panicked.error.code, 'handler_panicked');
      assert.equal(panicked.error.reason, 'no idea');
      assert.equal(panicked.error.channel, 'todos:confirm');
      await eventually(() => signals.size === 4, 'every request');
      bridge.main.reply({ t: 'cancel', id: 4, to: window.webContents.id });
      const timedOut = await replyTo(5);
      assert.equal(timedOut.error.code, 'timeout');
      assert.equal(timedOut.error.after_ms, 30);
      if (mode.copies) {
        assert.equal(signals.get('wait, cancel'), undefined, 'no AbortSignal crosses exposeInMainWorld');
      } else {
        assert.equal(signals.get('wait, cancel').aborted, true);
        assert.equal(signals.get('wait, cancel').reason.code, 'cancelled');
        assert.equal(signals.get('wait, time out').aborted, true);
      }
      await tick(20);
      assert.equal(bridge.main.frames('reply').filter((f) => f.id === 4).length, 0, 'no reply to a cancelled request');
      bridge.dispose();
    });
  });
}

describe('bridge: ports and requests per window', () => {
  it('routes each port to the window that owns it, and a window cannot touch another\'s', async () => {
    const bridge = await setup();
    const a = bridge.open();
    const b = bridge.open();
    const streamA = await watched(bridge, a, 2);
    const streamB = await watched(bridge, b, 4);
    bridge.main.reply({ t: 'port', port: 2, data: todo(1) });
    bridge.main.reply({ t: 'port', port: 4, data: todo(2) });
    assert.equal((await streamA[Symbol.asyncIterator]().next()).value.id, 1);
    assert.equal((await streamB[Symbol.asyncIterator]().next()).value.id, 2);
    // Window b names window a's port: dropped.
    b.ipcRenderer.send(FRAME_CHANNEL, { t: 'close', port: 2 });
    b.ipcRenderer.send(FRAME_CHANNEL, { t: 'credit', port: 2, n: 100 });
    // Nor can it grant credit for more messages than it received on its own.
    b.ipcRenderer.send(FRAME_CHANNEL, { t: 'credit', port: 4, n: 100 });
    await tick(20);
    assert.deepEqual(bridge.main.frames('close', 'credit'), []);
    streamB.cancel();
    await bridge.sent((f) => f.t === 'close', 'b\'s close');
    assert.deepEqual(bridge.main.frames('close'), [{ t: 'close', port: 4, reason: 'cancelled' }]);
    // Both windows upload: the bridge numbers their ports on the wire.
    a.page.global.todos.import(['x']).catch(() => {});
    b.page.global.todos.import(['y']).catch(() => {});
    const first = await bridge.invoked('todos:import');
    const second = await bridge.invoked('todos:import');
    assert.deepEqual([first.ports, second.ports], [[1], [3]]);
    assert.deepEqual([first.sender.id, second.sender.id], [a.webContents.id, b.webContents.id]);
    await eventually(() => bridge.main.frames('port').length === 2, 'both uploads');
    assert.deepEqual(bridge.main.frames('port').map((f) => [f.port, f.data]).sort(), [[1, 'x'], [3, 'y']]);
    // Requests go to the window named by `to`; only that window's answer counts.
    a.page.global.todos.handleConfirm(() => 'a');
    b.page.global.todos.handleConfirm(() => new Promise(() => {}));
    bridge.main.reply({ t: 'invoke', id: 9, ch: 'todos:confirm', args: ['?'], to: b.webContents.id });
    await tick(20);
    a.ipcRenderer.send(FRAME_CHANNEL, { t: 'reply', id: 9, ok: 'forged by a' });
    bridge.main.reply({ t: 'invoke', id: 10, ch: 'todos:confirm', args: ['?'], to: a.webContents.id });
    await bridge.sent((f) => f.t === 'reply' && f.id === 10, 'a\'s answer');
    await tick(20);
    assert.deepEqual(bridge.main.frames('reply'), [{ t: 'reply', id: 10, ok: 'a' }]);
    bridge.dispose();
  });

  it('closes the ports of a destroyed window at main and fails main\'s requests to it, before the detach', async () => {
    const bridge = await setup();
    const window = bridge.open();
    const other = bridge.open();
    await watched(bridge, window, 2);
    const kept = await watched(bridge, other, 4);
    window.evaluate('globalThis.todos.import((function* () { for (;;) yield "a"; })()).catch(() => {})');
    await bridge.invoked('todos:import');
    window.page.global.todos.handleConfirm(() => new Promise(() => {}));
    bridge.main.reply({ t: 'invoke', id: 5, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    await tick(20);
    const before = bridge.main.received.length;
    window.webContents.destroy();
    const after = bridge.main.received.slice(before);
    const error = { code: 'disconnected', message: 'the window was destroyed', reason: 'the window was destroyed' };
    assert.deepEqual(after.filter((f) => f.t !== 'cancel'), [
      { t: 'close', port: 2, error },
      { t: 'close', port: 1, error },
      { t: 'reply', id: 5, error: { code: 'disconnected', message: 'todos:confirm: the window was destroyed', channel: 'todos:confirm', reason: 'the window was destroyed' } },
      { t: 'detach', sender: window.webContents.id },
    ]);
    // Main's later frames for its ports are dropped; a request to it fails at once.
    bridge.main.reply({ t: 'port', port: 2, data: todo(1) });
    bridge.main.reply({ t: 'invoke', id: 6, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    const refused = await bridge.sent((f) => f.t === 'reply' && f.id === 6, 'the refusal');
    assert.equal(refused.error.code, 'disconnected');
    assert.equal(bridge.main.frames('error').length, 0);
    // The other window's stream goes on.
    bridge.main.reply({ t: 'port', port: 4, data: todo(7) });
    assert.equal((await kept[Symbol.asyncIterator]().next()).value.id, 7);
    bridge.dispose();
  });

  it('closes what a page left open when the window loads another page', async () => {
    const bridge = await setup();
    const window = bridge.open();
    await watched(bridge, window, 2);
    await chatted(bridge, window, 4);
    window.page.global.todos.handleConfirm(() => new Promise(() => {}));
    bridge.main.reply({ t: 'invoke', id: 3, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    await tick(20);
    window.reload();
    await bridge.sent((f) => f.t === 'reply' && f.id === 3, 'the failed request');
    const reason = 'it was reloaded or navigated away';
    const error = { code: 'disconnected', message: `the window's page went away: ${reason}`, reason };
    assert.deepEqual(bridge.main.frames('close', 'reply'), [
      { t: 'close', port: 2, error },
      { t: 'close', port: 4, error },
      { t: 'reply', id: 3, error: { code: 'disconnected', message: `todos:confirm: the window's page went away (${reason})`, channel: 'todos:confirm', reason: `the window's page went away (${reason})` } },
    ]);
    // The new page numbers its ports from 1 again, and works.
    const call = window.page.global.todos.import(['again']);
    const invoke = await bridge.invoked('todos:import');
    assert.deepEqual(invoke.ports, [1]);
    await bridge.sent((f) => f.t === 'port' && f.data === 'again', 'the new page\'s upload');
    bridge.main.reply({ t: 'reply', id: invoke.id, ok: 1 });
    assert.equal(await call, 1);
    const stream = await watched(bridge, window, 6);
    bridge.main.reply({ t: 'port', port: 6, data: todo(1) });
    assert.equal((await stream[Symbol.asyncIterator]().next()).value.id, 1);
    bridge.dispose();
  });

  it('ends a window\'s ports when main disconnects it, and every port when the connection ends', async () => {
    const bridge = await setup();
    const a = bridge.open();
    const b = bridge.open();
    const streamA = await watched(bridge, a, 2);
    const portB = await chatted(bridge, b, 4);
    const aborted = [];
    b.page.global.todos.handleConfirm((_question, signal) => {
      signal.addEventListener('abort', () => aborted.push(signal.reason.code));
      return new Promise(() => {});
    });
    bridge.main.reply({ t: 'invoke', id: 7, ch: 'todos:confirm', args: ['?'], to: b.webContents.id });
    await tick(20);
    bridge.main.reply({ t: 'goodbye', to: a.webContents.id, reason: 'kicked' });
    const failure = await streamA[Symbol.asyncIterator]().next().then(() => null, (e) => e);
    assert.equal(failure.code, 'disconnected');
    assert.deepEqual(bridge.main.frames('close'), [], 'main ended them itself');
    const closed = new Promise((resolve) => portB.onClose(resolve));
    bridge.main.reply({ t: 'goodbye', reason: 'shutting down' });
    assert.equal((await closed).code, 'disconnected');
    await eventually(() => aborted.length === 1, 'the request\'s abort');
    assert.deepEqual(aborted, ['cancelled']);
    bridge.dispose();
  });

  it('routes main\'s requests by `to`, and refuses what it cannot deliver', async () => {
    const bridge = await setup();
    const window = await bridge.known();
    const replyTo = (id) => bridge.sent((f) => f.t === 'reply' && f.id === id, `the reply to ${id}`);
    assert.deepEqual(REQUEST_CHANNELS, ['todos:confirm']);
    await tick(20);
    bridge.main.reply({ t: 'invoke', id: 1, ch: 'todos:confirm', args: ['?'] });
    assert.equal((await replyTo(1)).error.reason, 'a request to a bridge must name its window with `to`');
    bridge.main.reply({ t: 'invoke', id: 2, ch: 'todos:add', args: ['?'], to: window.webContents.id });
    assert.equal((await replyTo(2)).error.code, 'no_handler');
    bridge.main.reply({ t: 'invoke', id: 3, ch: 'todos:confirm', args: ['?'], to: 999 });
    assert.equal((await replyTo(3)).error.code, 'disconnected');
    const unknown = bridge.open();
    bridge.main.reply({ t: 'invoke', id: 4, ch: 'todos:confirm', args: ['?'], to: unknown.webContents.id });
    // A window that never called is found through webContents.fromId only; without it: gone.
    assert.equal((await replyTo(4)).error.code, 'disconnected');
    window.page.global.todos.handleConfirm(() => new Promise(() => {}));
    bridge.main.reply({ t: 'invoke', id: 5, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    bridge.main.reply({ t: 'invoke', id: 5, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    assert.equal((await replyTo(5)).error.code, 'protocol');
    // A page that navigated to an origin that is not allowed gets no request.
    window.navigate('https://evil.example/', 'https://evil.example');
    bridge.main.reply({ t: 'invoke', id: 6, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    assert.equal((await replyTo(6)).error.code, 'forbidden');
    bridge.dispose();
  });

  it('gives an event\'s ports to the one window it names, and closes them when it names no single window', async () => {
    const bridge = await setup();
    const a = bridge.open();
    const b = bridge.open();
    const got = [];
    a.page.global.todos.onChanged((value) => got.push(['a', value]));
    b.page.global.todos.onChanged((value) => got.push(['b', value]));
    await watched(bridge, a, 2); // the bridge has seen both windows
    await watched(bridge, b, 4);
    bridge.main.reply({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 6 }], ports: [6], to: b.webContents.id });
    await eventually(() => got.length === 1, 'the event');
    assert.equal(got[0][0], 'b');
    bridge.main.reply({ t: 'port', port: 6, data: 'item' });
    assert.equal((await got[0][1][Symbol.asyncIterator]().next()).value, 'item');
    bridge.main.reply({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 8 }], ports: [8] });
    await bridge.sent((f) => f.t === 'close' && f.port === 8, 'the close');
    assert.deepEqual(bridge.main.frames('close'), [{ t: 'close', port: 8, reason: 'not received' }]);
    assert.match(bridge.errors.at(-1).message, /does not name one window/);
    await tick(20);
    assert.equal(got.length, 1);
    bridge.dispose();
  });
});

describe('bridge: bad port input from main (docs/PROTOCOL.md 7.1)', () => {
  it('answers frames for ports never opened, and messages after main\'s own close, with protocol errors', async () => {
    const bridge = await setup();
    const window = bridge.open();
    await watched(bridge, window, 2);
    bridge.main.reply({ t: 'port', port: 10, data: 1 });
    bridge.main.reply({ t: 'credit', port: 9, n: 1 });
    bridge.main.reply({ t: 'close', port: 2 });
    bridge.main.reply({ t: 'port', port: 2, data: 1 });
    bridge.main.reply({ t: 'credit', port: 2, n: 1 }); // closed: dropped
    await tick(20);
    assert.deepEqual(bridge.main.frames('error').map((f) => f.error.reason), [
      '`port` for port 10, which was never opened',
      '`credit` for port 9, which was never opened',
      'a `port` message on port 2 after the sender\'s own close',
    ]);
    bridge.dispose();
  });

  it('closes a port whose sender went past its credit (the preload notices; main gets the close)', async () => {
    const bridge = await setup();
    const window = bridge.open();
    const stream = await watched(bridge, window, 2);
    for (let i = 1; i <= 17; i++) bridge.main.reply({ t: 'port', port: 2, data: todo(i) });
    const close = await bridge.sent((f) => f.t === 'close', 'the close');
    assert.deepEqual(close, { t: 'close', port: 2, error: { code: 'protocol', message: 'protocol error: port 2 sent past its credit', reason: 'port 2 sent past its credit' } });
    let read = 0;
    const error = await (async () => { for await (const _ of stream) read += 1; })().then(() => null, (e) => e);
    assert.equal(read, 16);
    assert.equal(error.code, 'protocol');
    bridge.dispose();
  });

  it('refuses a reply whose ports list is wrong (the call fails) and ports past the limits', async () => {
    const bridge = await setup({ maxPortsPerWindow: 2 });
    const window = bridge.open();
    const todos = window.page.global.todos;
    const call = todos.watch(1);
    const invoke = await bridge.invoked('todos:watch');
    bridge.main.reply({ t: 'reply', id: invoke.id, ok: { $ipc: 'stream', port: 3 }, ports: [3] });
    await assert.rejects(call, { name: 'IpcFrameworkError', code: 'protocol' });
    assert.match(bridge.main.frames('error')[0].error.reason, /port 3, an id of the receiver's parity/);
    await watched(bridge, window, 2);
    await watched(bridge, window, 4);
    const third = todos.watch(3);
    const invoke3 = await bridge.invoked('todos:watch');
    bridge.main.reply({ t: 'reply', id: invoke3.id, ok: { $ipc: 'stream', port: 6 }, ports: [6] });
    // The call fails with the refusal itself (docs/PROTOCOL.md 7.1: `too_many_ports` is refused
    // like a wrong list), which main is told too.
    await assert.rejects(third, { code: 'too_many_ports', limit: 2 });
    const refusal = bridge.main.frames('error').at(-1).error;
    assert.equal(refusal.code, 'too_many_ports');
    assert.equal(refusal.limit, 2);
    // The window's own uploads count too: refused before anything reaches main.
    const before = bridge.main.frames('invoke').length;
    await assert.rejects(todos.import(['x']), { code: 'too_many_ports', limit: 2 });
    assert.equal(bridge.main.frames('invoke').length, before);
    bridge.dispose();
  });

  it('ends the uploads of a call main refused for its ports, without a close for them', async () => {
    const bridge = await setup();
    const window = bridge.open();
    window.evaluate(`globalThis.returned = false;
      globalThis.call = globalThis.todos.import((function* () {
        try { for (;;) yield 'x'; } finally { globalThis.returned = true; }
      })());`);
    const invoke = await bridge.invoked('todos:import');
    bridge.main.reply({ t: 'reply', id: invoke.id, error: { code: 'too_many_ports', message: 'too many', limit: 0 } });
    await assert.rejects(window.page.global.call, { code: 'too_many_ports' });
    await eventually(() => window.page.global.returned, 'the source\'s return()');
    await tick(20);
    assert.ok(bridge.main.frames('port').length <= 16, 'within the credit');
    assert.deepEqual(bridge.main.frames('close'), []);
    bridge.dispose();
  });
});

describe('bridge: hello', () => {
  it('announces its port window and port limit, and reads main\'s', async () => {
    const bridge = await setup({}, { port_window: 1 });
    assert.equal(bridge.main.received[0].port_window, 16);
    assert.equal(bridge.main.received[0].max_ports, 1024);
    const window = bridge.open();
    window.page.global.todos.import(['a', 'b']).catch(() => {});
    await bridge.invoked('todos:import');
    await bridge.sent((f) => f.t === 'port', 'the first item');
    await tick(20);
    assert.equal(bridge.main.frames('port').length, 1, 'main\'s port_window of 1');
    bridge.dispose();
  });
});

describe('bridge: ports of a window\'s subframes (nodeIntegrationInSubFrames)', () => {
  // The todos contract with `watch` and `import` open to a window's subframes too.
  const schema = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-subframes-')), 'todos.json');
  const service = JSON.parse(fs.readFileSync(bindings.schema, 'utf8'));
  for (const method of service.methods) {
    if (method.name === 'watch' || method.name === 'import') method.policy = [{ renderers: ['window'] }];
  }
  fs.writeFileSync(schema, JSON.stringify(service));
  const open = portBindings({ schema });
  const subframeBridge = require(open.path('bridge.js'));

  async function subframeSetup(options = {}) {
    const main = fakeMain();
    const ipcMain = new FakeIpcMain();
    const errors = [];
    const dispose = subframeBridge.createBridge({
      ipcMain,
      transport: main.transport,
      allowedOrigins: ['app://todos'],
      onError: (error) => errors.push(error),
      ...options,
    });
    main.hello(subframeBridge.CONTRACTS);
    await dispose.ready;
    const window = createWindow({ ipcMain, preloadSource: open.read('preload.js') });
    const subframe = window.addSubframe('app://todos/widget.html', 'app://todos');
    return { main, dispose, errors, window, subframe };
  }

  /** `count` streams main opens to the frame behind `page` (its `todos.watch`), from port `first` on. */
  async function streamsTo(main, page, mainFrame, first, count = 1) {
    const before = main.frames('invoke').filter((f) => f.ch === 'todos:watch' && f.sender.main_frame === mainFrame).length;
    const calls = [];
    for (let i = 0; i < count; i++) calls.push(page.global.todos.watch(10));
    const invokes = await eventually(() => {
      const found = main.frames('invoke').filter((f) => f.ch === 'todos:watch' && f.sender.main_frame === mainFrame).slice(before);
      return found.length === count ? found : undefined;
    }, `${count} watch calls`);
    invokes.forEach((invoke, i) => main.reply({ t: 'reply', id: invoke.id, ok: { $ipc: 'stream', port: first + 2 * i }, ports: [first + 2 * i] }));
    return Promise.all(calls);
  }

  /** Main's invoke of `channel` from the main frame (`mainFrame`) or the subframe. */
  function invokedFrom(main, channel, mainFrame) {
    return frameWhere(main.received, (f) => f.t === 'invoke' && f.ch === channel && f.sender.main_frame === mainFrame, `${channel} from the ${mainFrame ? 'main frame' : 'subframe'}`);
  }

  it('routes each port to the frame that holds it, and keeps frames\' own port ids apart', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    const ofWindow = window.page.global.todos.watch(10);
    const ofSubframe = subframe.page.global.todos.watch(10);
    const fromWindow = await invokedFrom(main, 'todos:watch', true);
    const fromSubframe = await invokedFrom(main, 'todos:watch', false);
    main.reply({ t: 'reply', id: fromWindow.id, ok: { $ipc: 'stream', port: 2 }, ports: [2] });
    main.reply({ t: 'reply', id: fromSubframe.id, ok: { $ipc: 'stream', port: 4 }, ports: [4] });
    const [streamOfWindow, streamOfSubframe] = [await ofWindow, await ofSubframe];
    main.reply({ t: 'port', port: 4, data: todo(4) });
    main.reply({ t: 'port', port: 2, data: todo(2) });
    assert.equal((await streamOfSubframe[Symbol.asyncIterator]().next()).value.id, 4);
    assert.equal((await streamOfWindow[Symbol.asyncIterator]().next()).value.id, 2);

    // Each frame numbers its uploads from 1: the bridge keeps them apart on the wire.
    window.page.global.todos.import(['x']).catch(() => {});
    subframe.page.global.todos.import(['y']).catch(() => {});
    const uploads = [await invokedFrom(main, 'todos:import', true), await invokedFrom(main, 'todos:import', false)];
    assert.deepEqual(uploads.map((f) => f.args), [[{ $ipc: 'stream', port: 1 }], [{ $ipc: 'stream', port: 3 }]]);
    await eventually(() => main.frames('port').length === 2, 'both uploads');
    assert.deepEqual(main.frames('port').map((f) => [f.port, f.data]), [[1, 'x'], [3, 'y']]);

    // The subframe names the main frame's stream (port 2): dropped; its own port 2 is none.
    subframe.ipcRenderer.send(FRAME_CHANNEL, { t: 'close', port: 2 });
    await tick(20);
    assert.deepEqual(main.frames('close').filter((f) => f.port === 2), []);
    dispose();
  });

  it('keeps the main frame off a subframe\'s ports, and main\'s requests to the main frame', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    await streamsTo(main, window.page, true, 2);
    const [ofSubframe] = await streamsTo(main, subframe.page, false, 4);
    // The main frame names the subframe's stream: dropped.
    window.ipcRenderer.send(FRAME_CHANNEL, { t: 'close', port: 4 });
    // A request main makes of the window is its main frame's to answer.
    window.page.global.todos.handleConfirm(() => new Promise(() => {}));
    main.reply({ t: 'invoke', id: 9, ch: 'todos:confirm', args: ['?'], to: window.webContents.id });
    await tick(20);
    subframe.ipcRenderer.send(FRAME_CHANNEL, { t: 'reply', id: 9, ok: 'forged by the subframe' });
    await tick(20);
    assert.deepEqual(main.frames('close', 'reply'), []);
    main.reply({ t: 'port', port: 4, data: todo(4) });
    assert.equal((await ofSubframe[Symbol.asyncIterator]().next()).value.id, 4);
    dispose();
  });

  it('closes a subframe\'s port once its frame shows a page of an origin not allowed', async () => {
    const { main, dispose, errors, window, subframe } = await subframeSetup();
    const [ofWindow] = await streamsTo(main, window.page, true, 2);
    await streamsTo(main, subframe.page, false, 4);
    subframe.navigate('https://ads.example/frame.html', 'https://ads.example');
    main.reply({ t: 'port', port: 4, data: todo(4) });
    const closed = await frameWhere(main.received, (f) => f.t === 'close', 'the port closed');
    assert.equal(closed.port, 4);
    assert.equal(closed.error.code, 'forbidden');
    // Nothing of it reached the page of the other origin.
    assert.deepEqual(subframe.frame.sent.filter(({ args }) => args[0].t === 'port'), []);
    main.reply({ t: 'port', port: 2, data: todo(2) });
    assert.equal((await ofWindow[Symbol.asyncIterator]().next()).value.id, 2);
    assert.deepEqual(errors.filter((e) => e.code === 'protocol'), []);
    dispose();
  });

  it('closes a subframe\'s ports when its page goes, and leaves the main frame\'s open', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    const ofWindow = window.page.global.todos.watch(10);
    const ofSubframe = subframe.page.global.todos.watch(10);
    main.reply({ t: 'reply', id: (await invokedFrom(main, 'todos:watch', true)).id, ok: { $ipc: 'stream', port: 2 }, ports: [2] });
    main.reply({ t: 'reply', id: (await invokedFrom(main, 'todos:watch', false)).id, ok: { $ipc: 'stream', port: 4 }, ports: [4] });
    const stream = await ofWindow;
    await ofSubframe;
    subframe.reload();
    const closed = await frameWhere(main.received, (f) => f.t === 'close', 'the subframe\'s port closed');
    assert.equal(closed.port, 4);
    assert.equal(closed.error.code, 'disconnected');
    assert.match(closed.error.message, /subframe's page went away/);
    main.reply({ t: 'port', port: 2, data: todo(7) });
    assert.equal((await stream[Symbol.asyncIterator]().next()).value.id, 7);
    await tick(20);
    assert.deepEqual(main.frames('close').map((f) => f.port), [4]);
    // The new page of the subframe numbers its ports from 1 again.
    subframe.page.global.todos.import(['z']).catch(() => {});
    const upload = await frameWhere(main.received, (f) => f.t === 'invoke' && f.ch === 'todos:import', 'the new page\'s upload');
    assert.deepEqual(upload.args, [{ $ipc: 'stream', port: 1 }]);
    dispose();
  });

  it('closes a subframe\'s ports when it loads a page in another process (the same frame, new ids)', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    const [ofWindow] = await streamsTo(main, window.page, true, 2);
    await streamsTo(main, subframe.page, false, 4);
    subframe.page.global.todos.import(['a']).catch(() => {});
    await eventually(() => main.frames('port').length === 1, 'the upload');
    subframe.swapProcess();
    const closed = await frameWhere(main.received, (f) => f.t === 'close' && f.port === 4, 'the old page\'s stream closed');
    assert.equal(closed.error.code, 'disconnected');
    // Main's message for the old page's port never reaches the new page, whose own first
    // upload (port 1 again) is taken as new.
    main.reply({ t: 'port', port: 4, data: todo(4) });
    subframe.page.global.todos.import(['b']).catch(() => {});
    await eventually(() => main.frames('port').length === 2, 'the new page\'s upload');
    assert.deepEqual(main.frames('port').map((f) => f.data), ['a', 'b']);
    main.reply({ t: 'port', port: 2, data: todo(2) });
    assert.equal((await ofWindow[Symbol.asyncIterator]().next()).value.id, 2);
    dispose();
  });

  it('closes a subframe\'s ports with the page around it', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    await streamsTo(main, window.page, true, 2);
    await streamsTo(main, subframe.page, false, 4);
    window.reload();
    await eventually(() => main.frames('close').length === 2, 'both ports closed');
    assert.deepEqual(main.frames('close').map((f) => [f.port, f.error.code]).sort(), [[2, 'disconnected'], [4, 'disconnected']]);
    dispose();
  });

  it('gives the ports of a removed subframe back before refusing its window another', async () => {
    const { main, dispose, errors, window, subframe } = await subframeSetup({ maxPortsPerWindow: 3 });
    await streamsTo(main, window.page, true, 2);
    await streamsTo(main, subframe.page, false, 4, 2);
    subframe.remove();
    // Main hands the window two more ports: over the limit, until the removed subframe's two
    // are found gone (and closed at main).
    const [a, b] = await streamsTo(main, window.page, true, 8, 2);
    assert.deepEqual(main.frames('close').map((f) => [f.port, f.error.code]).sort(), [[4, 'disconnected'], [6, 'disconnected']]);
    main.reply({ t: 'port', port: 10, data: todo(10) });
    assert.equal((await b[Symbol.asyncIterator]().next()).value.id, 10);
    assert.ok(a, 'the first stream came too');
    assert.deepEqual(main.frames('error'), []);
    assert.deepEqual(errors.filter((e) => e.code === 'too_many_ports'), []);
    dispose();
  });

  it("gives a removed subframe's ports back before refusing another window's port for the connection's limit", async () => {
    const main = fakeMain();
    const ipcMain = new FakeIpcMain();
    const errors = [];
    const dispose = subframeBridge.createBridge({ ipcMain, transport: main.transport, allowedOrigins: ['app://todos'], onError: (error) => errors.push(error) });
    // The Rust main takes three ports at once on this connection.
    main.hello(subframeBridge.CONTRACTS, { max_ports: 3 });
    await dispose.ready;
    const first = createWindow({ ipcMain, preloadSource: open.read('preload.js') });
    const subframe = first.addSubframe('app://todos/widget.html', 'app://todos');
    await streamsTo(main, subframe.page, false, 2, 3);
    subframe.remove();
    // Another window's upload would be a fourth port: the removed subframe's three are found
    // gone first (and closed at main), so it goes.
    const second = createWindow({ ipcMain, preloadSource: open.read('preload.js') });
    second.page.global.todos.import(['x']).catch(() => {});
    await eventually(() => main.frames('port').some((f) => f.data === 'x'), 'the upload');
    assert.deepEqual(main.frames('close').filter((f) => f.error).map((f) => [f.port, f.error.code]).sort(), [[2, 'disconnected'], [4, 'disconnected'], [6, 'disconnected']]);
    assert.deepEqual(errors.filter((e) => e.code === 'too_many_ports'), []);
    dispose();
  });

  it('keeps two subframes apart, and ends their ports with a goodbye to the window or the connection', async () => {
    const { main, dispose, window, subframe } = await subframeSetup();
    const other = window.addSubframe('app://todos/other.html', 'app://todos');
    const [ofFirst] = await streamsTo(main, subframe.page, false, 2);
    const [ofSecond] = await streamsTo(main, other.page, false, 4);
    main.reply({ t: 'port', port: 4, data: todo(4) });
    main.reply({ t: 'port', port: 2, data: todo(2) });
    assert.equal((await ofSecond[Symbol.asyncIterator]().next()).value.id, 4);
    assert.equal((await ofFirst[Symbol.asyncIterator]().next()).value.id, 2);
    // Each uploads as its own port 1.
    subframe.page.global.todos.import(['x']).catch(() => {});
    other.page.global.todos.import(['y']).catch(() => {});
    await eventually(() => main.frames('port').length === 2, 'both uploads');
    assert.deepEqual(main.frames('port').map((f) => [f.port, f.data]), [[1, 'x'], [3, 'y']]);
    // Main disconnects the window: each subframe's stream ends, told by the bridge.
    main.reply({ t: 'goodbye', to: window.webContents.id, reason: 'kicked' });
    for (const stream of [ofFirst, ofSecond]) {
      const failure = await stream[Symbol.asyncIterator]().next().then(() => null, (e) => e);
      assert.equal(failure.code, 'disconnected');
    }
    assert.deepEqual(main.frames('close').filter((f) => f.error), [], 'main ended them itself');
    dispose();

    // The connection ends: a subframe's stream ends with it.
    const again = await subframeSetup();
    const [stream] = await streamsTo(again.main, again.subframe.page, false, 2);
    again.main.reply({ t: 'goodbye', reason: 'shutting down' });
    const failure = await stream[Symbol.asyncIterator]().next().then(() => null, (e) => e);
    assert.equal(failure.code, 'disconnected');
    again.dispose();
  });

  it('closes every port of a subframe that is gone once main writes to one of them', async () => {
    const { main, dispose, errors, window, subframe } = await subframeSetup();
    const ofWindow = window.page.global.todos.watch(10);
    const ofSubframe = [subframe.page.global.todos.watch(10), subframe.page.global.todos.watch(10)];
    main.reply({ t: 'reply', id: (await invokedFrom(main, 'todos:watch', true)).id, ok: { $ipc: 'stream', port: 2 }, ports: [2] });
    const calls = await eventually(() => {
      const found = main.frames('invoke').filter((f) => f.ch === 'todos:watch' && !f.sender.main_frame);
      return found.length === 2 ? found : undefined;
    }, 'the subframe\'s two calls');
    main.reply({ t: 'reply', id: calls[0].id, ok: { $ipc: 'stream', port: 4 }, ports: [4] });
    main.reply({ t: 'reply', id: calls[1].id, ok: { $ipc: 'stream', port: 6 }, ports: [6] });
    const stream = await ofWindow;
    await Promise.all(ofSubframe);
    subframe.remove();
    main.reply({ t: 'port', port: 4, data: todo(4) });
    await eventually(() => main.frames('close').length === 2, 'the subframe\'s ports closed');
    assert.deepEqual(main.frames('close').map((f) => [f.port, f.error.code]).sort(), [[4, 'disconnected'], [6, 'disconnected']]);
    main.reply({ t: 'port', port: 6, data: todo(6) }); // crossed the close: dropped
    main.reply({ t: 'port', port: 2, data: todo(2) });
    assert.equal((await stream[Symbol.asyncIterator]().next()).value.id, 2);
    await tick(20);
    assert.equal(main.frames('close').length, 2);
    assert.deepEqual(main.frames('error'), []);
    assert.ok(errors.length <= 1, errors.map((e) => e.message).join('; '));
    dispose();
  });
});
