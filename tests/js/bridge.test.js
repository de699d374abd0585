'use strict';
// The generated bridge.js against a scripted peer playing the Rust main, for what the real main
// cannot show at will (events addressed with `to`, lag notices, a goodbye to one window, chunked
// and malformed chunked messages, a main that stops reading, refusals at the handshake, lost
// connections) and for the bridge's own rules (origins, registration, disposal).

const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');
const { describe, it } = require('node:test');

const { eventually, generate } = require('./support/setup');
const { createWindow, FakeIpcMain } = require('./support/electron');
const { frameBytes, frameReader, startSession } = require('./support/session');
const { encodeBody } = require('./support/msgpack');

const bindings = generate();
const { createBridge, CONTRACTS, INVOKE_CHANNELS, SYNC_CHANNELS, SEND_CHANNELS, EVENT_CHANNELS, LAG_CHANNEL } = require(bindings.path('bridge.js'));
const preloadSource = bindings.read('preload.js');
const plain = (value) => JSON.parse(JSON.stringify(value));
const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/** One chunk frame (docs/PROTOCOL.md 1.1) with its length prefix. */
function chunkBytes(id, total, offset, data) {
  const body = Buffer.alloc(13 + data.length);
  body.writeUInt32BE(id, 1);
  body.writeUInt32BE(total, 5);
  body.writeUInt32BE(offset, 9);
  Buffer.from(data).copy(body, 13);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/**
 * A scripted main: records the bridge's frames (`received`, whole messages; `sequence`, the frame
 * types and chunk ids in the order they came; `chunks`, the chunk headers); `reply(frame)` sends
 * one back, `chunked(frame, size, id)` sends one as chunks of `size` bytes. While `stalled` is
 * set, its stream's write() answers false, as a pipe whose reader stopped reading does, until
 * `drain()`.
 */
function fakeMain() {
  const readable = new EventEmitter();
  const received = [];
  const sequence = [];
  const chunks = [];
  const main = new EventEmitter();
  const read = frameReader((frame) => {
    received.push(frame);
    sequence.push(frame.t);
    main.emit('frame', frame);
  }, (chunk) => {
    chunks.push(chunk);
    sequence.push(`chunk ${chunk.id}`);
  });
  let ended = false;
  const writable = new EventEmitter();
  writable.write = (bytes) => {
    read(bytes);
    return !main.stalled;
  };
  writable.end = () => { ended = true; };
  return Object.assign(main, {
    transport: { readable, writable },
    received,
    sequence,
    chunks,
    stalled: false,
    ended: () => ended,
    drain() {
      main.stalled = false;
      writable.emit('drain');
    },
    raw(bytes) { readable.emit('data', bytes); },
    // Until its hello, what the main says is JSON (the handshake); MessagePack after it.
    saidHello: false,
    reply(frame) {
      const json = !main.saidHello;
      if (frame.t === 'hello') main.saidHello = true;
      readable.emit('data', frameBytes(frame, json));
    },
    chunked(frame, size, id = 1) {
      const body = encodeBody(frame);
      for (let offset = 0; offset < body.length; offset += size) {
        readable.emit('data', chunkBytes(id, body.length, offset, body.subarray(offset, offset + size)));
      }
    },
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
  it('says hello with the contracts, a label and its frame and message limits', async () => {
    const { main, dispose } = setup({ label: 'window-bridge' });
    assert.deepEqual(main.received[0], {
      t: 'hello', protocol: 1, role: 'bridge', codec: 'msgpack', contracts: CONTRACTS, label: 'window-bridge',
      max_frame: 4194304, max_message: 67108864, port_window: 16, max_ports: 1024,
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
    for (const channel of Object.keys(SYNC_CHANNELS)) assert.equal(ipcMain.listenerCount(channel), 1);
    for (const channel of EVENT_CHANNELS) assert.equal(ipcMain.listenerCount(channel), 0);
    assert.equal(ipcMain.listenerCount('__ipc:cancel'), 1);
    dispose();
    assert.equal(ipcMain.handlers.size, 0);
    // Only a stand-in on each sync channel, which answers at once: Electron never answers a
    // sendSync nobody listens to, and the page would hang.
    assert.deepEqual(ipcMain.eventNames(), Object.keys(SYNC_CHANNELS));
    const event = {};
    ipcMain.emit('todos:lookup', event, 1, 1, 0);
    assert.equal(event.returnValue.error.code, 'disconnected');
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
    assert.deepEqual(ipcMain.eventNames(), Object.keys(SYNC_CHANNELS));
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
    const before = window.ipcRenderer.invoke('todos:slow', 1, null, null, 1000);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the first invoke');
    const after = window.ipcRenderer.invoke('todos:slow', 1, null, null, 2000);
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

describe('bridge: chunked messages (docs/PROTOCOL.md 1.1)', () => {
  it('announces the message limit it is given', () => {
    const { main, dispose } = setup({ maxFrame: 1000, maxMessage: 5000 });
    assert.equal(main.received[0].max_frame, 1000);
    assert.equal(main.received[0].max_message, 5000);
    dispose();
  });

  it('reassembles a chunked reply and handles it where its last chunk arrives', async () => {
    const { main, dispose, open } = setup({ maxFrame: 256 });
    main.hello();
    await dispose.ready;
    const window = open();
    const todos = window.page.global.todos;
    const events = [];
    todos.onAnnounce((message) => events.push(message));
    const first = todos.list();
    const second = todos.list();
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 2, 'both invokes');
    const [a, b] = main.received.filter((f) => f.t === 'invoke');
    const many = Array.from({ length: 20 }, (_, i) => ({ id: i, title: `todo number ${i}`, done: false }));
    const bodyA = encodeBody({ t: 'reply', id: a.id, ok: many });
    const bodyB = encodeBody({ t: 'reply', id: b.id, ok: many.slice(10) });
    assert.ok(bodyA.length > 256 && bodyB.length > 256);
    // Two messages interleaved, and a whole frame between their chunks.
    main.raw(chunkBytes(7, bodyA.length, 0, bodyA.subarray(0, 200)));
    main.raw(chunkBytes(8, bodyB.length, 0, bodyB.subarray(0, 200)));
    main.reply({ t: 'event', ch: 'todos:announce', args: ['between'] });
    for (let offset = 200; offset < bodyB.length; offset += 200) {
      main.raw(chunkBytes(8, bodyB.length, offset, bodyB.subarray(offset, offset + 200)));
    }
    for (let offset = 200; offset < bodyA.length; offset += 200) {
      main.raw(chunkBytes(7, bodyA.length, offset, bodyA.subarray(offset, offset + 200)));
    }
    assert.deepEqual(plain(await first), many);
    assert.deepEqual(plain(await second), many.slice(10));
    await eventually(() => events.length === 1, 'the event between the chunks');
    // A chunk id may be used again once its message is complete.
    const third = todos.list();
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 3, 'the third invoke');
    const c = main.received.filter((f) => f.t === 'invoke')[2];
    main.chunked({ t: 'reply', id: c.id, ok: many }, 100, 7);
    assert.deepEqual(plain(await third), many);
    dispose();
  });

  it('sends a message longer than the main\'s max_frame as chunks, back to back', async () => {
    const { main, dispose, open } = setup();
    main.serve((frame) => ({ ok: { id: 1, title: frame.args[0], done: false } }));
    const todos = open().page.global.todos;
    // Queued before the handshake, when main's limits are not known yet.
    const early = todos.add('e'.repeat(2500));
    main.hello(CONTRACTS, { max_frame: 1000, max_message: 10000 });
    assert.equal((await early).title.length, 2500);
    const title = 'é'.repeat(3000); // 6000 bytes of UTF-8
    const other = open().page.global.todos;
    const [big, small] = await Promise.all([todos.add(title), other.add('small')]);
    assert.equal(big.title, title);
    assert.equal(small.title, 'small');
    const invoke = main.received.find((f) => f.t === 'invoke' && f.args[0] === title);
    assert.ok(invoke, 'the big invoke arrived whole');
    const ids = [...new Set(main.chunks.map((c) => c.id))];
    assert.equal(ids.length, 2, 'two chunked messages');
    for (const id of ids) {
      const chunks = main.chunks.filter((c) => c.id === id);
      let expected = 0;
      for (const chunk of chunks) {
        assert.equal(chunk.offset, expected);
        assert.ok(13 + chunk.length <= 1000, 'each chunk fits main\'s max_frame');
        expected += chunk.length;
      }
      assert.equal(expected, chunks[0].total);
      // Nothing comes between the chunks of one message.
      const at = main.sequence.indexOf(`chunk ${id}`);
      assert.deepEqual(main.sequence.slice(at, at + chunks.length), chunks.map(() => `chunk ${id}`));
    }
    dispose();
  });

  it('refuses at once a message above the main\'s max_message, and chunks nothing for a main without one', async () => {
    const first = setup();
    first.main.hello(CONTRACTS, { max_frame: 1000, max_message: 5000 });
    await first.dispose.ready;
    const todos = first.open().page.global.todos;
    await assert.rejects(todos.add('x'.repeat(6000)), { code: 'too_large', limit: 5000 });
    assert.equal(first.main.received.filter((f) => f.t === 'invoke').length, 0);
    todos.log('y'.repeat(6000));
    await eventually(() => first.errors.length === 1, 'the refused send to be reported');
    assert.equal(first.errors[0].code, 'too_large');
    first.dispose();

    // No max_message in main's hello: it takes no chunks at all.
    const second = setup();
    second.main.hello(CONTRACTS, { max_frame: 1000 });
    await second.dispose.ready;
    await assert.rejects(second.open().page.global.todos.add('x'.repeat(2000)), { code: 'too_large', limit: 1000 });
    assert.deepEqual(second.main.chunks, []);
    second.dispose();
  });

  const BODY = encodeBody({ t: 'event', ch: 'todos:announce', args: ['x'.repeat(100)] });
  const MALFORMED = [
    ['a header shorter than 13 bytes', /shorter than its 13-byte header/, () => {
      const frame = Buffer.alloc(4 + 9);
      frame.writeUInt32BE(9, 0);
      return [frame];
    }],
    ['an empty chunk', /empty chunk/, () => [chunkBytes(1, 10, 0, Buffer.alloc(0))]],
    ['total 0', /total 0/, () => [chunkBytes(1, 0, 0, Buffer.from('x'))]],
    ['a message that never started', /offset 50 of message 1, which never started/, () => [chunkBytes(1, BODY.length, 50, BODY.subarray(50))]],
    ['an out-of-order offset', /offset 60 of message 1, which stands at 50/, () => [
      chunkBytes(1, BODY.length, 0, BODY.subarray(0, 50)),
      chunkBytes(1, BODY.length, 60, BODY.subarray(60)),
    ]],
    ['data past total', /data past its total/, () => [
      chunkBytes(1, BODY.length, 0, BODY.subarray(0, 50)),
      chunkBytes(1, BODY.length, 50, Buffer.concat([BODY.subarray(50), Buffer.from('extra')])),
    ]],
    ['a total that changes', /total changed from \d+ to \d+/, () => [
      chunkBytes(1, BODY.length, 0, BODY.subarray(0, 50)),
      chunkBytes(1, BODY.length + 1, 50, BODY.subarray(50)),
    ]],
    ['a 17th partial message', /while 16 messages are partial/, () => Array.from({ length: 17 }, (_, id) => chunkBytes(id, BODY.length, 0, BODY.subarray(0, 10)))],
  ];
  for (const [name, reason, frames] of MALFORMED) {
    it(`closes the connection on ${name}`, async () => {
      const { main, dispose, open } = setup();
      main.hello();
      await dispose.ready;
      const todos = open().page.global.todos;
      const call = todos.slow(1000);
      await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the invoke');
      for (const bytes of frames()) main.raw(bytes);
      const error = await call.then(() => assert.fail('resolved'), (e) => e);
      assert.equal(error.code, 'protocol');
      assert.match(error.reason, reason);
      assert.equal((await dispose.closed).code, 'protocol');
      assert.equal(main.received.at(-1).t, 'goodbye');
      assert.match(main.received.at(-1).reason, reason);
      assert.ok(main.ended());
      await assert.rejects(todos.list(), { code: 'protocol' });
      dispose();
    });
  }

  it('closes the connection on a chunked message above its max_message', async () => {
    const { main, dispose, open } = setup({ maxMessage: 100 });
    main.hello();
    await dispose.ready;
    const call = open().page.global.todos.slow(1000);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the invoke');
    main.raw(chunkBytes(1, BODY.length, 0, BODY.subarray(0, 50)));
    await assert.rejects(call, { code: 'too_large', size: BODY.length, limit: 100 });
    assert.equal((await dispose.closed).code, 'too_large');
    dispose();
  });

  it('closes the connection on a chunk before the main\'s hello', async () => {
    const { main, dispose } = setup();
    main.raw(chunkBytes(1, BODY.length, 0, BODY.subarray(0, 50)));
    await assert.rejects(dispose.ready, { code: 'protocol', message: /got a chunk frame/ });
    dispose();
  });
});

describe('bridge: lag notices', () => {
  for (const [name, windowOptions] of [
    ['context isolation, Electron 35+', { contextIsolated: true }],
    ['context isolation, older Electron', { contextIsolated: true, executeInMainWorld: false }],
    ['no context isolation', { contextIsolated: false }],
  ]) {
    it(`hands a lag notice to onLag in its place among the events, or warns (${name})`, async () => {
      const { main, dispose, open } = setup();
      main.hello();
      main.serve(() => ({ ok: [] }));
      const a = open(windowOptions);
      const b = open(windowOptions);
      const log = [];
      const warnings = [];
      for (const world of [b.page, b.preload]) {
        world.global.console = { ...console, warn: (...args) => warnings.push(args.join(' ')) };
      }
      const todo = { id: 1, title: 't', done: false };
      const disposeA = a.page.global.todos.onChanged((changed) => log.push(`event ${changed.id}`), {
        onLag: (missed) => log.push(`lag ${missed}`),
      });
      a.page.global.todos.onAnnounce(() => {}, { onLag: (missed) => log.push(`announce lag ${missed}`) });
      b.page.global.todos.onChanged(() => {});
      await a.page.global.todos.list();
      await b.page.global.todos.list();

      main.reply({ t: 'event', ch: 'todos:changed', args: [todo], to: a.webContents.id });
      main.reply({ t: 'lag', ch: 'todos:changed', missed: 12, to: a.webContents.id });
      main.reply({ t: 'event', ch: 'todos:changed', args: [{ ...todo, id: 2 }], to: a.webContents.id });
      main.reply({ t: 'lag', ch: 'todos:changed', missed: 1 });
      await eventually(() => log.length === 4 && warnings.length === 1, 'the events and the lag notices');
      assert.deepEqual(log, ['event 1', 'lag 12', 'event 2', 'lag 1']);
      assert.deepEqual(warnings, ['todos.onChanged: missed 1 event: the Rust main dropped it because the page did not keep up (pass { onLag } to handle this)']);
      assert.deepEqual(a.webContents.sent.filter((m) => m.channel === LAG_CHANNEL).map((m) => m.args), [['todos:changed', 12], ['todos:changed', 1]]);

      // A disposed subscription hears no more, and its listener on the lag channel is gone with it.
      disposeA();
      main.reply({ t: 'lag', ch: 'todos:announce', missed: 5, to: a.webContents.id });
      main.reply({ t: 'lag', ch: 'todos:changed', missed: 7, to: a.webContents.id });
      await eventually(() => log.length === 5, 'the announce lag');
      await tick();
      assert.deepEqual(log.slice(4), ['announce lag 5']);
      assert.equal(a.ipcRenderer.listenerCount(LAG_CHANNEL), 1);
      dispose();
    });
  }

  it('checks the options of a subscription like those of an invoke', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    for (const windowOptions of [{ contextIsolated: true }, { contextIsolated: true, executeInMainWorld: false }, { contextIsolated: false }]) {
      const window = open(windowOptions);
      const todos = window.page.global.todos;
      const listener = () => {};
      assert.throws(() => todos.onChanged(listener, { onlag: () => {} }), /todos\.onChanged: unknown option `onlag` \(the only option is onLag\)/);
      assert.throws(() => todos.onChanged(listener, { onLag: 5 }), /todos\.onChanged: options\.onLag must be a function/);
      assert.throws(() => todos.onChanged(listener, null), /todos\.onChanged: the second argument must be an options object/);
      assert.throws(() => todos.onChanged(listener, {}, 3), /todos\.onChanged expects a listener function and an optional options object/);
      assert.equal(window.ipcRenderer.listenerCount('todos:changed'), 0);
      assert.equal(window.ipcRenderer.listenerCount(LAG_CHANNEL), 0);
      const off = todos.onChanged(listener, { onLag: undefined });
      assert.equal(window.ipcRenderer.listenerCount(LAG_CHANNEL), 1);
      off();
      assert.equal(window.ipcRenderer.listenerCount(LAG_CHANNEL), 0);
    }
    dispose();
  });

  it('reports a lag notice for an undeclared channel instead of delivering it', async () => {
    const { main, dispose, open, errors } = setup();
    main.hello();
    main.serve(() => ({ ok: [] }));
    const window = open();
    await window.page.global.todos.list();
    main.reply({ t: 'lag', ch: 'todos:undeclared', missed: 3 });
    main.reply({ t: 'lag', ch: 'todos:changed', missed: -1 });
    await eventually(() => errors.length === 2, 'both notices to be reported');
    assert.match(errors[0].message, /malformed lag notice for channel todos:undeclared/);
    assert.deepEqual(window.webContents.sent, []);
    dispose();
  });
});

describe('bridge: a goodbye to one window', () => {
  it('fails that window\'s calls, answers its later calls itself and forwards nothing of it', async () => {
    const { main, dispose, open, errors } = setup();
    main.hello();
    await dispose.ready;
    const a = open();
    const b = open();
    const heard = { a: [], b: [] };
    a.page.global.todos.onAnnounce((m) => heard.a.push(m));
    b.page.global.todos.onAnnounce((m) => heard.b.push(m));
    const callA = a.page.global.todos.slow(1000);
    const callB = b.page.global.todos.slow(1000);
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 2, 'both invokes');
    const invokeB = main.received.filter((f) => f.t === 'invoke').find((f) => f.sender.id === b.webContents.id);

    main.reply({ t: 'goodbye', to: a.webContents.id, reason: 'kicked by the app' });
    const error = await callA.then(() => assert.fail('resolved'), (e) => e);
    assert.equal(error.code, 'disconnected');
    assert.equal(error.reason, 'kicked by the app');
    const framesBefore = main.received.length;
    await assert.rejects(a.page.global.todos.list(), { code: 'disconnected', reason: 'kicked by the app' });
    a.page.global.todos.log('from a disconnected window');
    await eventually(() => errors.length === 1, 'the dropped send to be reported');
    assert.equal(errors[0].code, 'disconnected');
    // A broadcast no longer reaches it either.
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to all'] });
    await eventually(() => heard.b.length === 1, 'the broadcast');
    await tick();
    assert.deepEqual(heard, { a: [], b: ['to all'] });
    assert.equal(main.received.length, framesBefore, 'nothing of the window was forwarded');

    // The bridge and the other window go on.
    main.reply({ t: 'reply', id: invokeB.id, ok: 1000 });
    assert.equal(await callB, 1000);
    let closed = false;
    dispose.closed.then(() => { closed = true; });
    await tick();
    assert.equal(closed, false);

    // A plain goodbye still closes the whole bridge.
    const last = b.page.global.todos.slow(1000);
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 3, 'the last invoke');
    main.reply({ t: 'goodbye', reason: 'shutting down' });
    await assert.rejects(last, { code: 'disconnected', reason: 'shutting down' });
    assert.equal((await dispose.closed).code, 'disconnected');
    dispose();
  });
});

describe('bridge: backpressure', () => {
  it('waits for drain when write() says so, and refuses calls past maxQueuedBytes', async () => {
    // One window: its share is the whole queue here (the shares have a test of their own).
    const { main, dispose, open, errors } = setup({ maxQueuedBytes: 1000, maxQueuedBytesPerWindow: 1000 });
    main.hello();
    await dispose.ready;
    main.serve((frame) => ({ ok: frame.args[0] }));
    const todos = open().page.global.todos;
    main.stalled = true;
    const first = todos.slow(1);
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the first invoke');
    // write() answered false: what follows waits in the bridge, in order.
    const queued = [todos.slow(2), todos.slow(3)];
    todos.log('queued line');
    await tick(50);
    assert.equal(main.received.filter((f) => f.t !== 'hello').length, 1, 'nothing written after write() said false');
    // About 400 bytes wait. What would make more than 1000 wait is refused at once (calls) or
    // reported (sends); what still fits waits with the rest.
    const tooMuch = todos.add('x'.repeat(700)).then(() => assert.fail('resolved'), (e) => e);
    const fits = todos.add('f'.repeat(400));
    const failure = await tooMuch;
    assert.equal(failure.name, 'IpcFrameworkError');
    assert.equal(failure.code, 'too_many_in_flight');
    assert.equal(failure.limit, 1000);
    await assert.rejects(todos.add('z'.repeat(300)), { code: 'too_many_in_flight' });
    todos.log('y'.repeat(300));
    await eventually(() => errors.some((e) => e.code === 'too_many_in_flight'), 'the refused send to be reported');

    main.drain();
    assert.equal(await first, 1);
    assert.deepEqual(await Promise.all(queued), [2, 3]);
    assert.equal(await fits, 'f'.repeat(400));
    const written = main.received.filter((f) => f.t === 'invoke' || f.t === 'send');
    assert.deepEqual(written.map((f) => f.args[0]), [1, 2, 3, 'queued line', 'f'.repeat(400)]);
    dispose();
  });

  it('counts what waits for the handshake against the same bound', async () => {
    const { main, dispose, open } = setup({ maxQueuedBytes: 600, maxQueuedBytesPerWindow: 600 });
    main.serve((frame) => ({ ok: frame.args[0].length }));
    const todos = open().page.global.todos;
    const first = todos.add('a'.repeat(300));
    const second = todos.add('b'.repeat(300)).then(() => assert.fail('resolved'), (e) => e);
    assert.equal((await second).code, 'too_many_in_flight');
    main.hello();
    assert.equal(await first, 300);
    dispose();
  });
});

/** How a call from `window` settles: 'ok', or the error's code and reason. */
async function outcome(window) {
  try {
    await window.page.global.todos.list();
    return 'ok';
  } catch (error) {
    return `${error.code}: ${error.reason}`;
  }
}

describe('bridge: origins', () => {
  it('tells main a call came from the window\'s main frame, and refuses an iframe of it by default', async () => {
    const { main, dispose, open } = setup({ allowedOrigins: ['app://todos'] });
    main.hello();
    main.serve(() => ({ ok: [] }));
    const window = open();
    assert.equal(await outcome(window), 'ok');
    assert.equal(main.received.at(-1).sender.main_frame, true);
    // The same page's iframe (same origin, another document): Electron's senderFrame is not
    // the window's mainFrame. No policy is declared for `list`: the default refuses subframes,
    // in the bridge, before anything reaches main.
    window.enterSubframe('app://todos/widget.html', 'app://todos');
    const sent = main.received.length;
    assert.match(await outcome(window), /^forbidden: a subframe of app:\/\/todos does not meet the default policy/);
    assert.equal(main.received.length, sent, 'nothing reached main');
    window.enterSubframe(null);
    assert.equal(await outcome(window), 'ok');
    assert.equal(main.received.at(-1).sender.main_frame, true);
    dispose();
  });

  it('derives the origin from the frame URL only when Electron gives none', async () => {
    const { main, dispose, open } = setup({ allowedOrigins: ['file:///opt/app/', 'app://todos'] });
    main.hello();
    main.serve(() => ({ ok: [] }));
    // origin: null models Electron before WebFrameMain#origin.
    const file = open({ url: 'file:///opt/app/index.html', origin: null });
    assert.equal(await outcome(file), 'ok');
    assert.deepEqual(main.received.at(-1).sender, { id: file.webContents.id, url: 'file:///opt/app/index.html', origin: 'file://', main_frame: true });
    const custom = open({ url: 'app://todos/index.html', origin: null });
    assert.equal(await outcome(custom), 'ok');
    assert.equal(main.received.at(-1).sender.origin, 'app://todos');
    // A URL without a host has no origin to derive: opaque.
    const data = open({ url: 'data:text/html,<script>evil()</script>', origin: null });
    assert.equal(await outcome(data), 'forbidden: origin null is not allowed');
    dispose();
  });

  it('never takes an opaque origin for the app\'s, whatever the frame URL says', async () => {
    const { main, dispose, open, errors } = setup({ allowedOrigins: ['app://todos'] });
    main.hello();
    main.serve(() => ({ ok: [] }));
    const before = main.received.length;
    // A sandboxed iframe of the app's own page: its URL is the app's, its origin is opaque.
    const sandboxed = open({ url: 'app://todos/frame.html', origin: 'null' });
    assert.equal(await outcome(sandboxed), 'forbidden: origin null is not allowed');
    const data = open({ url: 'data:text/html,hi', origin: 'null' });
    assert.equal(await outcome(data), 'forbidden: origin null is not allowed');
    // Anything Electron reports that is not an origin counts as opaque too.
    const empty = open({ url: 'app://todos/index.html', origin: '' });
    assert.equal(await outcome(empty), 'forbidden: origin null is not allowed');
    sandboxed.page.global.todos.log('from a sandboxed frame');
    await eventually(() => errors.length === 1, 'the refused send to be reported');
    assert.equal(errors[0].code, 'forbidden');
    assert.equal(main.received.length, before, 'nothing was forwarded');
    dispose();

    // "*" admits any origin but an opaque one; only an explicit "null" admits those.
    const any = setup({ allowedOrigins: ['*'] });
    any.main.hello();
    any.main.serve(() => ({ ok: [] }));
    assert.equal(await outcome(any.open({ url: 'https://anywhere.example/', origin: 'https://anywhere.example' })), 'ok');
    assert.equal(await outcome(any.open({ url: 'app://todos/frame.html', origin: 'null' })), 'forbidden: origin null is not allowed');
    any.dispose();
    const opaque = setup({ allowedOrigins: ['app://todos', 'null'] });
    opaque.main.hello();
    opaque.main.serve(() => ({ ok: [] }));
    const admitted = opaque.open({ url: 'app://todos/frame.html', origin: 'null' });
    assert.equal(await outcome(admitted), 'ok');
    assert.deepEqual(opaque.main.received.at(-1).sender, { id: admitted.webContents.id, url: 'app://todos/frame.html', origin: 'null', main_frame: true });
    opaque.dispose();
  });

  it('hands a policy function the opaque origin as "null"', async () => {
    const seen = [];
    const { main, dispose, open } = setup({
      allowedOrigins: (origin, url) => {
        seen.push([origin, url]);
        if (origin === 'app://boom') throw new Error('a broken policy');
        return origin === 'app://todos';
      },
    });
    main.hello();
    main.serve(() => ({ ok: [] }));
    assert.equal(await outcome(open({ url: 'app://todos/frame.html', origin: 'null' })), 'forbidden: origin null is not allowed');
    assert.deepEqual(seen, [['null', 'app://todos/frame.html']]);
    // A policy that throws refuses.
    assert.equal(await outcome(open({ url: 'app://boom/', origin: 'app://boom' })), 'forbidden: origin app://boom is not allowed');
    assert.equal(await outcome(open()), 'ok');
    dispose();
  });

  it('refuses a bare file:// entry at createBridge, and entries that name no plain path', () => {
    for (const entry of ['file://', 'file:///', 'FILE://', 'file:', 'file://localhost/']) {
      assert.throws(
        () => createBridge({ ipcMain: new FakeIpcMain(), transport: fakeMain().transport, allowedOrigins: ['app://todos', entry] }),
        (error) => {
          assert.ok(error instanceof TypeError, String(error));
          assert.match(error.message, /would admit every local file/);
          assert.match(error.message, /"file:\/\/\/opt\/app\/", ending with '\/'/);
          assert.match(error.message, /"file:\/\/\/opt\/app\/index\.html"/);
          return true;
        },
        entry,
      );
    }
    for (const entry of ['file:///opt/app/?x', 'file:///opt/app/index.html#top', 'file:///opt/app%2findex.html', 'file:///opt/%00/']) {
      assert.throws(
        () => createBridge({ ipcMain: new FakeIpcMain(), transport: fakeMain().transport, allowedOrigins: [entry] }),
        { name: 'TypeError', message: /allowedOrigins entry .* (has a query or fragment|names no plain path)/ },
        entry,
      );
    }
  });

  it('admits file:// frames only under an allowed folder or as an allowed file', async () => {
    const { main, dispose, open } = setup({
      allowedOrigins: ['file:///opt/app/', 'file:///srv/one/page.html', 'file:///opt/my%20app/'],
    });
    main.hello();
    main.serve(() => ({ ok: [] }));
    const admitted = [
      'file:///opt/app/index.html',
      'file:///opt/app/nested/deeper/view.html',
      'file:///opt/app/index.html#/settings', // hash routing
      'file:///opt/app/index.html?tab=2',
      'file:///opt/app/./sub/../index.html', // normalized to /opt/app/index.html
      'file:///srv/one/page.html',
      'file:///opt/my app/index.html', // decoded paths are compared
      'file://localhost/opt/app/index.html', // localhost is no host for file: URLs
    ];
    const refused = [
      'file:///opt/application/index.html', // a sibling that shares the folder's prefix
      'file:///opt/app', // the folder's name, not a file in it
      'file:///opt/app/../secret.html',
      'file:///opt/app/%2e%2e/secret.html',
      'file:///opt/app/..%2fsecret.html', // an encoded separator
      'file:///opt/app/..%5csecret.html',
      'file:///opt/app/%00.html',
      'file:///opt/app/%zz.html', // a malformed escape
      'file:///tmp/evil.html?/opt/app/index.html',
      'file:///tmp/evil.html#/opt/app/',
      'file:///srv/one/page.html.evil',
      'file:///srv/one/other.html',
      'file:///srv/one/page.html/',
      'file://fileserver/opt/app/index.html', // another host
      'https://evil.example/opt/app/index.html', // claims file:// as its origin, is no file
    ];
    for (const url of admitted) assert.equal(await outcome(open({ url, origin: 'file://' })), 'ok', url);
    for (const url of refused) {
      assert.equal(await outcome(open({ url, origin: 'file://' })), 'forbidden: origin file:// is not allowed', url);
    }
    // The same rule whether Electron reports file:// or nothing at all.
    assert.equal(await outcome(open({ url: 'file:///opt/app/index.html', origin: null })), 'ok');
    assert.equal(await outcome(open({ url: 'file:///home/me/Downloads/evil.html', origin: null })), 'forbidden: origin file:// is not allowed');
    // A local page whose origin Electron reports as opaque is opaque.
    assert.equal(await outcome(open({ url: 'file:///opt/app/index.html', origin: 'null' })), 'forbidden: origin null is not allowed');
    const forwarded = main.received.filter((f) => f.t === 'invoke').map((f) => f.sender.url);
    assert.deepEqual(forwarded, [...admitted, 'file:///opt/app/index.html']);
    dispose();
  });
});

describe('bridge: events follow the window, not the frame that called', () => {
  it('withholds events and lag notices from a window that navigated to an origin not allowed, and reports it once', async () => {
    const { main, dispose, open, errors } = setup();
    main.hello();
    main.serve(() => ({ ok: [] }));
    const a = open();
    const b = open();
    const heard = { a: [], b: [] };
    a.page.global.todos.onAnnounce((message) => heard.a.push(message), { onLag: (missed) => heard.a.push(`lag ${missed}`) });
    b.page.global.todos.onAnnounce((message) => heard.b.push(message));
    await a.page.global.todos.list();
    await b.page.global.todos.list();
    main.reply({ t: 'event', ch: 'todos:announce', args: ['before'] });
    await eventually(() => heard.a.length === 1 && heard.b.length === 1, 'the first broadcast');

    // Window a follows a link to another site. Its calls are refused (its sender frame is
    // checked); nothing the main sends reaches it any more either: not a broadcast, not an event
    // addressed to it, not a lag notice.
    a.navigate('https://evil.example/phish.html', 'https://evil.example');
    const sentBefore = a.webContents.sent.length;
    main.reply({ t: 'event', ch: 'todos:announce', args: ['broadcast'] });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['addressed'], to: a.webContents.id });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['addressed too'], to: [a.webContents.id, b.webContents.id] });
    main.reply({ t: 'lag', ch: 'todos:announce', missed: 3, to: a.webContents.id });
    await eventually(() => heard.b.length === 3, 'the events for b');
    await tick();
    assert.equal(a.webContents.sent.length, sentBefore, 'nothing was sent to the navigated window');
    assert.deepEqual(heard, { a: ['before'], b: ['before', 'broadcast', 'addressed too'] });
    assert.deepEqual(errors.map((e) => [e.code, e.message]), [
      ['forbidden', `events for window ${a.webContents.id} are withheld: its main frame's origin https://evil.example is not allowed`],
    ], 'reported once, not once per event');

    // An opaque page (a data: URL) is refused the same way, and reported as the new reason.
    a.navigate('data:text/html,<p>hi</p>', 'null');
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to data'] });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to data again'] });
    await eventually(() => heard.b.length === 5, 'the events for b');
    assert.equal(a.webContents.sent.length, sentBefore);
    assert.equal(errors.length, 2);
    assert.match(errors[1].message, /its main frame's origin null is not allowed/);

    // Back on the app's page, the window hears events again; leaving again is reported again.
    a.navigate('app://todos/index.html', 'app://todos');
    main.reply({ t: 'event', ch: 'todos:announce', args: ['welcome back'] });
    await eventually(() => heard.a.length === 2, 'the event after coming back');
    assert.deepEqual(heard.a, ['before', 'welcome back']);
    a.navigate('https://evil.example/', 'https://evil.example');
    main.reply({ t: 'event', ch: 'todos:announce', args: ['gone again'] });
    await eventually(() => errors.length === 3, 'the second departure to be reported');
    assert.equal(heard.a.length, 2);
    dispose();
  });

  it('checks a window found through webContents.fromId, and one without a main frame', async () => {
    const stranger = createWindow({ ipcMain: new FakeIpcMain(), preloadSource, url: 'https://evil.example/', origin: 'https://evil.example' });
    const headless = { id: 999, send: () => assert.fail('sent to a window without a main frame'), isDestroyed: () => false };
    const { main, dispose, errors } = setup({
      webContents: { fromId: (id) => (id === stranger.webContents.id ? stranger.webContents : id === 999 ? headless : null) },
    });
    main.hello();
    await dispose.ready;
    main.reply({ t: 'event', ch: 'todos:announce', args: ['for the stranger'], to: stranger.webContents.id });
    main.reply({ t: 'event', ch: 'todos:announce', args: ['for a window without a main frame'], to: 999 });
    await eventually(() => errors.length === 2, 'both windows to be reported');
    assert.deepEqual(stranger.webContents.sent, []);
    assert.match(errors[1].message, /window 999 are withheld: it has no main frame to check/);
    dispose();
  });

  it('applies file:// entries to the main frame too', async () => {
    const { main, dispose, open } = setup({ allowedOrigins: ['file:///opt/app/'] });
    main.hello();
    main.serve(() => ({ ok: [] }));
    const window = open({ url: 'file:///opt/app/index.html', origin: 'file://' });
    const heard = [];
    window.page.global.todos.onAnnounce((message) => heard.push(message));
    await window.page.global.todos.list();
    main.reply({ t: 'event', ch: 'todos:announce', args: ['local'] });
    await eventually(() => heard.length === 1, 'the event');
    // A page saved to Downloads shares the file:// origin but not the folder.
    window.navigate('file:///home/me/Downloads/evil.html', 'file://');
    main.reply({ t: 'event', ch: 'todos:announce', args: ['to downloads'] });
    await tick(50);
    assert.deepEqual(heard, ['local']);
    dispose();
  });
});

describe('bridge: limits per window', () => {
  it('one window at its in-flight limit gets too_many_in_flight, another window is still served', async () => {
    const { main, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    // The main answers list at once and never answers slow (a window flooding slow calls).
    main.serve((frame) => (frame.ch === 'todos:list' ? { ok: [] } : undefined));
    const flooder = open();
    const victim = open();
    const flood = Array.from({ length: 256 }, (_, i) => flooder.page.global.todos.slow(i).catch((e) => e));
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 256, 'the 256 slow invokes');
    const refused = await flooder.page.global.todos.list().then(() => assert.fail('resolved'), (e) => e);
    assert.equal(refused.name, 'IpcFrameworkError');
    assert.equal(refused.code, 'too_many_in_flight');
    assert.equal(refused.limit, 256);
    assert.match(refused.message, /this window already has 256 calls waiting for their reply/);
    assert.equal(main.received.filter((f) => f.t === 'invoke').length, 256, 'the refused call was not forwarded');
    // The other window is untouched by the flood.
    assert.deepEqual(plain(await victim.page.global.todos.list()), []);
    assert.deepEqual(plain(await Promise.all([1, 2, 3].map(() => victim.page.global.todos.list()))), [[], [], []]);
    // Once one of its calls is answered, the flooder may call again.
    const first = main.received.find((f) => f.t === 'invoke' && f.ch === 'todos:slow');
    main.reply({ t: 'reply', id: first.id, ok: 0 });
    assert.deepEqual(plain(await flooder.page.global.todos.list()), []);
    dispose();
    assert.ok((await Promise.all(flood)).slice(1).every((e) => e.code === 'disconnected'));
  });

  it('maxInFlightPerWindow sets the bound, and a destroyed window\'s calls free their slots', async () => {
    const { main, dispose, open } = setup({ maxInFlightPerWindow: 2 });
    main.hello();
    await dispose.ready;
    const a = open();
    const calls = [a.page.global.todos.slow(1), a.page.global.todos.slow(2)].map((c) => c.catch((e) => e));
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 2, 'both invokes');
    await assert.rejects(a.page.global.todos.slow(3), { code: 'too_many_in_flight', limit: 2 });
    const b = open();
    const callB = b.page.global.todos.slow(4);
    await eventually(() => main.received.filter((f) => f.t === 'invoke').length === 3, 'b\'s invoke');
    const invokeB = main.received.filter((f) => f.t === 'invoke').at(-1);
    main.reply({ t: 'reply', id: invokeB.id, ok: 4 });
    assert.equal(await callB, 4);
    a.webContents.destroy();
    assert.deepEqual((await Promise.all(calls)).map((e) => e.code), ['cancelled', 'cancelled']);
    dispose();
  });

  it('a window that floods a main which stopped reading fills its own share of the queue, not the others\'', async () => {
    const { main, dispose, open, errors } = setup({ maxQueuedBytes: 4000 }); // a share is 1000 bytes
    main.hello();
    await dispose.ready;
    main.serve((frame) => ({ ok: frame.args[0].length }));
    const flooder = open().page.global.todos;
    const victim = open().page.global.todos;
    main.stalled = true;
    const first = flooder.add('first');
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the first invoke');
    // Everything after it waits in the bridge. The flooder fills its share and is refused (15
    // calls would fill the whole queue: without shares, the other window would be refused too)...
    const outcomes = new Array(15).fill(null);
    const flood = outcomes.map((_, i) => flooder.add('x'.repeat(200)).then((v) => { outcomes[i] = v; }, (e) => { outcomes[i] = e; }));
    await eventually(() => outcomes.some((o) => o !== null && o !== 200), 'a refusal of the flooder');
    const refusal = outcomes.find((o) => o !== null && o !== 200);
    assert.equal(refusal.code, 'too_many_in_flight');
    assert.equal(refusal.limit, 1000);
    assert.match(refusal.message, /this window already has \d+ bytes waiting for the Rust main to read them \(its share is 1000 bytes\)/);
    flooder.log('y'.repeat(900));
    await eventually(() => errors.some((e) => e.code === 'too_many_in_flight'), 'the flooder\'s refused send to be reported');
    // ...while the other window's calls and sends still wait their turn.
    const errorsBefore = errors.length;
    const served = victim.add('v'.repeat(600));
    victim.log('victim line');
    await tick();
    assert.equal(errors.length, errorsBefore, 'nothing of the other window was refused');

    main.drain();
    assert.equal(await first, 5);
    assert.equal(await served, 600);
    await Promise.all(flood);
    // About 320 bytes a call: the first three fit in the 1000-byte share, the rest were refused.
    const accepted = outcomes.filter((o) => o === 200).length;
    assert.ok(accepted >= 2 && accepted <= 4, `${accepted} calls of the flooder waited`);
    assert.deepEqual(outcomes.map((o) => (o === 200 ? 'ok' : o.code)), [
      ...Array(accepted).fill('ok'), ...Array(outcomes.length - accepted).fill('too_many_in_flight'),
    ]);
    assert.ok(main.received.some((f) => f.t === 'send' && f.args[0] === 'victim line'));
    dispose();
  });
});

describe('bridge: heartbeat and frames it does not take', () => {
  it('answers a ping at once with a pong of the same id', async () => {
    const { main, dispose, open, errors } = setup();
    main.hello();
    await dispose.ready;
    main.reply({ t: 'ping', id: 1 });
    main.reply({ t: 'ping', id: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(main.received.slice(1), [{ t: 'pong', id: 1 }, { t: 'pong', id: Number.MAX_SAFE_INTEGER }]);
    // A stray pong is ignored; a ping without a usable id is a protocol error.
    main.reply({ t: 'pong', id: 5 });
    main.reply({ t: 'ping' });
    assert.deepEqual(main.received.at(-1), {
      t: 'error', error: { code: 'protocol', message: 'protocol error: a `ping` without a valid `id`', reason: 'a `ping` without a valid `id`' },
    });
    assert.equal(errors.length, 1);
    // Behind a stream that asked to wait, the pong keeps its place in line.
    main.serve(() => ({ ok: [] }));
    main.stalled = true;
    const window = open();
    const first = window.page.global.todos.list();
    await eventually(() => main.received.some((f) => f.t === 'invoke'), 'the invoke');
    const second = window.page.global.todos.list();
    await tick();
    main.reply({ t: 'ping', id: 2 });
    assert.equal(main.received.filter((f) => f.t === 'pong').length, 2, 'the pong waits for drain');
    main.drain();
    assert.deepEqual(main.sequence.slice(-2), ['invoke', 'pong']);
    assert.deepEqual(main.received.at(-1), { t: 'pong', id: 2 });
    await Promise.all([first, second]);
    dispose();
  });

  it('answers reserved and unexpected frame types with a protocol error naming the type, and goes on', async () => {
    const { main, dispose, open, errors } = setup();
    main.hello();
    await dispose.ready;
    main.serve(() => ({ ok: [] }));
    let closed = false;
    dispose.closed.then(() => { closed = true; });
    main.reply({ t: 'port_open', port: 1 });
    main.reply({ t: 'send', ch: 'todos:log', args: [] });
    main.reply({ t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts: CONTRACTS });
    main.reply({ t: 'detach', sender: 3 });
    main.reply({ no: 'type' });
    main.raw(frameBytes([1, 2]));
    main.raw(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]));
    const answers = main.received.filter((f) => f.t === 'error');
    assert.deepEqual(answers.map((f) => f.error.reason), [
      'unknown frame type `port_open`',
      'unexpected frame type `send` (a bridge does not receive it)',
      'unexpected frame type `hello` (a bridge does not receive it)',
      'unexpected frame type `detach` (a bridge does not receive it)',
      'a frame without a type',
      'a frame that is not a map',
      answers[6].error.reason,
    ]);
    assert.match(answers[6].error.reason, /^a frame that is not MessagePack: /);
    assert.deepEqual(answers[0], {
      t: 'error', error: { code: 'protocol', message: 'protocol error: unknown frame type `port_open`', reason: 'unknown frame type `port_open`' },
    });
    assert.ok(answers.every((f) => f.error.code === 'protocol' && f.id === undefined));
    assert.equal(errors.length, 7);
    assert.match(errors[0].message, /does not take \(unknown frame type `port_open`\); answered with a protocol error/);
    // The connection goes on.
    assert.deepEqual(plain(await open().page.global.todos.list()), []);
    await tick();
    assert.equal(closed, false);
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

  it('carries a 6 MiB title to the Rust main and back in chunks (needs the Rust side of chunking)', async () => {
    const session = await startSession();
    try {
      const hello = session.rust.fromRust[0];
      assert.equal(hello.max_message, 67108864, 'the Rust main announces max_message in its hello');
      const window = session.open();
      const todos = window.page.global.todos;
      const heard = [];
      todos.onChanged((todo) => heard.push(todo.title));
      // Multi-byte characters, so that chunk boundaries fall inside them.
      const title = 'abcé€😀'.repeat((6 * 1024 * 1024) / 12);
      const todo = await todos.add(title);
      assert.ok(todo.title === title, 'the title came back whole');
      assert.ok(session.rust.chunksToRust.length >= 2, `${session.rust.chunksToRust.length} chunks to the Rust main`);
      assert.ok(session.rust.chunksFromRust.length >= 2, `${session.rust.chunksFromRust.length} chunks from the Rust main`);
      for (const chunk of session.rust.chunksToRust) assert.ok(13 + chunk.length <= hello.max_frame);
      // The changed event the handler emitted came chunked too.
      await eventually(() => heard.length === 1, 'the changed event');
      assert.ok(heard[0] === title, 'the event came whole');
      // The connection goes on serving small calls.
      assert.equal((await todos.stats()).calls, 1);
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

describe('bridge: sync calls (ipcRenderer.sendSync)', () => {
  /** A window's sendSync as the bridge sees it: resolves with what the bridge sets as returnValue. */
  function syncCall(window, ipcMain, channel, callId, ...args) {
    return new Promise((resolve) => {
      const event = window.ipcRenderer._mainEvent();
      Object.defineProperty(event, 'returnValue', { set: resolve });
      ipcMain.emit(channel, event, callId, ...args);
    });
  }

  it('answers through returnValue: main\'s reply, a reply with ports it cannot take, and the deadline', async () => {
    const { main, ipcMain, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    const window = open();
    const invokes = () => main.received.filter((f) => f.t === 'invoke' && f.ch === 'todos:lookup');

    const answered = syncCall(window, ipcMain, 'todos:lookup', 1, 3, 0);
    await eventually(() => invokes().length === 1, 'the invoke');
    assert.equal(invokes()[0].timeout_ms, 1000, 'the contract\'s deadline travels');
    main.reply({ t: 'reply', id: invokes()[0].id, ok: { id: 3, title: 't', done: false } });
    assert.deepEqual(plain(await answered), { ok: { id: 3, title: 't', done: false } });

    // sendSync cannot hand a port over: main's port is closed again.
    const withPorts = syncCall(window, ipcMain, 'todos:lookup', 2, 3, 0);
    await eventually(() => invokes().length === 2, 'the second invoke');
    main.reply({ t: 'reply', id: invokes()[1].id, ok: { $ipc: 'port', port: 2 }, ports: [2] });
    const refused = await withPorts;
    assert.equal(refused.error.code, 'bad_reply');
    await eventually(() => main.received.some((f) => f.t === 'close' && f.port === 2 && f.reason === 'not received'), 'the port closed');

    // A main that does not answer: the bridge answers `timeout` at the deadline and cancels.
    const started = Date.now();
    const late = await syncCall(window, ipcMain, 'todos:lookup', 3, 3, 0);
    assert.equal(late.error.code, 'timeout');
    assert.ok(Date.now() - started >= 990, 'at the deadline');
    assert.ok(main.received.some((f) => f.t === 'cancel' && f.id === invokes()[2].id), 'the call is cancelled');
    dispose();
  });

  it('answers at once what it refuses, and after it is disposed', async () => {
    const { main, ipcMain, dispose, open } = setup();
    main.hello();
    await dispose.ready;
    const window = open();
    assert.equal((await syncCall(window, ipcMain, 'todos:lookup', 0, 1, 0)).error.code, 'protocol', 'a bad call id');
    dispose();
    assert.equal((await syncCall(window, ipcMain, 'todos:lookup', 1, 1, 0)).error.code, 'disconnected');
    assert.equal(ipcMain.listenerCount('todos:lookup'), 1, 'one stand-in');
    // Another bridge on the same ipcMain answers for itself, and once it is gone too, the one
    // stand-in answers again (two stand-ins would each wait for the other: a frozen page).
    const again = createBridge({ ipcMain, transport: fakeMain().transport, allowedOrigins: ['app://todos'] });
    assert.equal(ipcMain.listenerCount('todos:lookup'), 2);
    again();
    assert.equal(ipcMain.listenerCount('todos:lookup'), 1, 'still one stand-in');
    assert.equal((await syncCall(window, ipcMain, 'todos:lookup', 2, 1, 0)).error.code, 'disconnected');
  });
});
