'use strict';
// The generated browser client (client.mjs) over a WebSocket model: each message is one frame
// body (text, or binary for a chunk), relayed to a real Rust main (the examples' Todos contract
// over stdio) with the length prefix of the byte transport added and removed, as a WebSocket
// server in front of the main would do; and over a scripted server for what the real main cannot
// show at will (lag notices, chunked and malformed chunked messages, an ended connection).

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const { pathToFileURL } = require('node:url');

const { eventually, generate } = require('./support/setup');
const { encodeBody, unpackFrame } = require('./support/msgpack');
const { packed, rustWebSocket } = require('./support/peers');

/**
 * A WebSocket class whose server answers the hello with `answer` and is then the test's:
 * `sockets` collects the instances; each records what the client sends (`sent`: text frames
 * parsed; `binary`: binary messages) and lets the test push frames to it.
 */
function scriptedWebSocket(answer, sockets = []) {
  return class ScriptedWebSocket {
    constructor() {
      this.sent = [];
      this.binary = [];
      this.closed = false;
      sockets.push(this);
      setImmediate(() => this.onopen());
    }

    send(data) {
      if (typeof data !== 'string') {
        const bytes = Uint8Array.from(data);
        if (bytes[0] === 0) this.binary.push(bytes);
        else this.sent.push(unpackFrame(bytes));
        return;
      }
      const frame = JSON.parse(data);
      this.sent.push(frame);
      if (frame.t === 'hello') setImmediate(() => this.onmessage({ data: JSON.stringify(answer) }));
    }

    push(frame) {
      this.onmessage({ data: packed(frame) });
    }

    /** A text message after the handshake (frames must be binary then). */
    pushText(frame) {
      this.onmessage({ data: JSON.stringify(frame) });
    }

    pushBinary(bytes) {
      this.onmessage({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
    }

    /** The server ends the connection. */
    end(reason) {
      this.onclose({ code: 1000, reason });
    }

    close() {
      this.closed = true;
    }
  };
}

/** One chunk frame body (docs/PROTOCOL.md 1.1), as a WebSocket binary message carries it. */
function chunk(id, total, offset, data) {
  const body = Buffer.alloc(13 + data.length);
  body.writeUInt32BE(id, 1);
  body.writeUInt32BE(total, 5);
  body.writeUInt32BE(offset, 9);
  Buffer.from(data).copy(body, 13);
  return body;
}

/** Reassembles the chunk messages a scripted socket received into JSON frames. */
function unchunk(binary) {
  const parts = new Map();
  const frames = [];
  for (const bytes of binary) {
    const body = Buffer.from(bytes);
    const id = body.readUInt32BE(1);
    const total = body.readUInt32BE(5);
    const offset = body.readUInt32BE(9);
    const list = parts.get(id) || [];
    assert.equal(offset, list.reduce((n, b) => n + b.length, 0), 'chunks in order');
    list.push(body.subarray(13));
    parts.set(id, list);
    if (offset + body.length - 13 === total) {
      frames.push(unpackFrame(Buffer.concat(list)));
      parts.delete(id);
    }
  }
  return frames;
}

describe('browser client', () => {
  let client;
  let contracts;
  let api;
  const sockets = [];

  before(async () => {
    const bindings = generate();
    client = await import(pathToFileURL(bindings.path('client.mjs')).href);
    contracts = require(bindings.path('bridge.js')).CONTRACTS;
    api = await client.connect('ws://127.0.0.1:1/ipc', {
      WebSocket: rustWebSocket(sockets),
      token: 'secret-token',
      label: 'browser-tab',
    });
  });
  after(async () => {
    client.close(api);
    await Promise.all(sockets.map((s) => s.exited));
  });

  it('puts the token in the URL and says hello with the contracts and the label', () => {
    assert.equal(sockets[0].url, 'ws://127.0.0.1:1/ipc?token=secret-token');
    assert.deepEqual(sockets[0].sent[0], {
      t: 'hello', protocol: 1, role: 'renderer', codec: 'msgpack', contracts, label: 'browser-tab',
      max_frame: 4194304, max_message: 67108864, port_window: 16, max_ports: 1024,
    });
  });

  it('has the same API object shape as the preload', () => {
    assert.deepEqual(Object.keys(api).sort(), [
      'add', 'attach', 'attachment', 'chat', 'crash', 'due', 'export', 'handleConfirm', 'import', 'list', 'log', 'lookup', 'measure', 'notebooksOpen',
      'onAnnounce', 'onChanged', 'onIntroduce', 'onScheduled', 'openNotebook', 'postpone', 'renameAll', 'schedule', 'setView', 'slow', 'stats',
      'toggle', 'view', 'watch',
    ]);
    assert.ok(Object.isFrozen(api));
  });

  it('invokes, sends and receives events', async () => {
    const changes = [];
    const dispose = api.onChanged((todo) => changes.push(todo));
    const todo = await api.add('from the browser');
    assert.deepEqual(todo, { id: 1, title: 'from the browser', done: false });
    assert.equal((await api.toggle(1)).done, true);
    await eventually(() => changes.length === 2, 'two changed events');
    dispose();
    await api.add('unheard');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(changes.length, 2);
    api.log('browser line');
    await eventually(async () => (await api.stats()).logs.includes('browser line'), 'the log line');
  });

  it('calls a sync method as an invoke with the contract\'s deadline (a page cannot block)', async () => {
    const todo = await api.add('looked up');
    const found = api.lookup(todo.id, 0);
    assert.equal(typeof found.then, 'function');
    assert.deepEqual(await found, todo);
    const started = Date.now();
    await assert.rejects(api.lookup(todo.id, 5000), (error) => error.code === 'timeout');
    const waited = Date.now() - started;
    assert.ok(waited >= 990 && waited < 3000, `failed at the 1000 ms deadline (${waited} ms)`);
    // Its deadline is the contract's: no options, as where it blocks.
    assert.throws(() => api.lookup(todo.id, 0, { timeoutMs: 99999 }), /expects 2 arguments \(id, delayMs\), got 3 arguments/);
  });

  it('rejects with the exported error classes', async () => {
    const app = await api.toggle(42).then(() => assert.fail('resolved'), (e) => e);
    assert.ok(app instanceof client.IpcAppError);
    assert.deepEqual(app.data, { kind: 'NotFound', id: 42 });
    assert.equal(app.channel, 'todos:toggle');
    const framework = await api.crash().then(() => assert.fail('resolved'), (e) => e);
    assert.ok(framework instanceof client.IpcFrameworkError);
    assert.equal(framework.code, 'handler_panicked');
    assert.throws(() => api.add(1), { name: 'TypeError', message: 'todos.add: argument 1 (title) must be a string, got the number 1' });
  });

  it('cancels the handler on abort and on timeout', async () => {
    const { cancelled } = await api.stats();
    const controller = new AbortController();
    const call = api.slow(10000, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(call, { name: 'IpcFrameworkError', code: 'cancelled' });
    await assert.rejects(api.slow(10000, { timeoutMs: 30 }), { code: 'timeout', afterMs: 30 });
    const frames = sockets[0].sent;
    assert.ok(frames.some((f) => f.t === 'cancel'));
    assert.equal(frames.filter((f) => f.t === 'invoke' && f.ch === 'todos:slow').at(-1).timeout_ms, 30);
    await eventually(async () => (await api.stats()).cancelled === cancelled + 2, 'both handlers to be cancelled');
  });

  it('fails pending and later calls when closed, and a send throws', async () => {
    const other = await client.connect('ws://127.0.0.1:1/ipc', { WebSocket: rustWebSocket(sockets) });
    const call = other.slow(10000);
    client.close(other, 'done');
    await assert.rejects(call, { code: 'disconnected' });
    await assert.rejects(other.list(), { code: 'disconnected' });
    assert.deepEqual(sockets.at(-1).sent.at(-1), { t: 'goodbye', reason: 'done' });
    const framesBefore = sockets.at(-1).sent.length;
    assert.throws(() => other.log('after close'), (error) => {
      assert.ok(error instanceof client.IpcFrameworkError);
      assert.equal(error.code, 'disconnected');
      assert.equal(error.channel, 'todos:log');
      assert.match(error.message, /closed by the page: done/);
      return true;
    });
    // The argument checks still come first.
    assert.throws(() => other.log(1), TypeError);
    assert.equal(sockets.at(-1).sent.length, framesBefore);
  });

  it('carries a 6 MiB title to the Rust main and back in chunks (needs the Rust side of chunking)', async () => {
    const big = await client.connect('ws://127.0.0.1:1/ipc', { WebSocket: rustWebSocket(sockets) });
    const socket = sockets.at(-1);
    try {
      // Multi-byte characters, so that chunk boundaries fall inside them.
      const title = 'abcé€😀'.repeat((6 * 1024 * 1024) / 12);
      const heard = [];
      big.onChanged((todo) => heard.push(todo.title));
      const todo = await big.add(title);
      assert.ok(todo.title === title, 'the title came back whole');
      assert.ok(socket.chunksSent >= 2, `${socket.chunksSent} chunks sent`);
      assert.ok(socket.chunksReceived >= 2, `${socket.chunksReceived} chunks received`);
      await eventually(() => heard.length === 1, 'the changed event');
      assert.ok(heard[0] === title, 'the event came whole');
    } finally {
      client.close(big);
    }
  });

  it('refuses a main with another version of the contract', async () => {
    const WebSocket = scriptedWebSocket({
      t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts: { todos: '0000000000000000' }, renderer: 1,
    });
    const error = await client.connect('ws://x', { WebSocket }).then(() => assert.fail('connected'), (e) => e);
    assert.ok(error instanceof client.IpcFrameworkError);
    assert.equal(error.code, 'version_mismatch');
    assert.equal(error.theirs, 'contract `todos` 0000000000000000');
  });

  it('reports a refusal at the handshake', async () => {
    const WebSocket = scriptedWebSocket({ t: 'error', error: { code: 'forbidden', message: 'bad token', reason: 'bad token' } });
    await assert.rejects(client.connect('ws://x', { WebSocket }), { code: 'forbidden', message: 'bad token' });
  });

  it('needs a WebSocket implementation', async () => {
    const saved = globalThis.WebSocket;
    try {
      globalThis.WebSocket = undefined;
      await assert.rejects(client.connect('ws://x'), /no WebSocket implementation/);
    } finally {
      globalThis.WebSocket = saved;
    }
  });
});


describe('browser client against a scripted main', () => {
  let client;
  let contracts;
  const hello = () => ({ t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts, renderer: 1, max_frame: 4194304, max_message: 67108864 });

  before(async () => {
    const bindings = generate();
    client = await import(pathToFileURL(bindings.path('client.mjs')).href);
    contracts = require(bindings.path('bridge.js')).CONTRACTS;
  });

  async function open(answer = hello(), options = {}) {
    const sockets = [];
    const api = await client.connect('ws://x', { WebSocket: scriptedWebSocket(answer, sockets), ...options });
    return { api, socket: sockets[0] };
  }

  it('hands a lag notice to every subscription of its channel, in its place among the events', async () => {
    const { api, socket } = await open();
    const log = [];
    const warnings = [];
    const saved = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      api.onChanged((todo) => log.push(`a ${todo.id}`), { onLag: (missed) => log.push(`a lag ${missed}`) });
      api.onChanged((todo) => log.push(`b ${todo.id}`));
      api.onAnnounce(() => {}, { onLag: (missed) => log.push(`announce lag ${missed}`) });
      socket.push({ t: 'event', ch: 'todos:changed', args: [{ id: 1, title: 't', done: false }] });
      socket.push({ t: 'lag', ch: 'todos:changed', missed: 12 });
      socket.push({ t: 'event', ch: 'todos:changed', args: [{ id: 2, title: 't', done: false }] });
      socket.push({ t: 'lag', ch: 'todos:changed', missed: 'many' }); // malformed: ignored
      assert.deepEqual(log, ['a 1', 'b 1', 'a lag 12', 'a 2', 'b 2']);
      assert.deepEqual(warnings, ['todos.onChanged: missed 12 events: the Rust main dropped them because the page did not keep up (pass { onLag } to handle this)']);
    } finally {
      console.warn = saved;
    }
    assert.throws(() => api.onChanged(() => {}, { onLag: 'no' }), { name: 'TypeError', message: 'todos.onChanged: options.onLag must be a function (missed) => void' });
    assert.throws(() => api.onChanged(() => {}, { lag: () => {} }), { name: 'TypeError', message: /unknown option `lag`/ });
    client.close(api);
  });

  it('reassembles chunked messages from binary messages, between whole frames', async () => {
    const { api, socket } = await open();
    const events = [];
    api.onAnnounce((message) => events.push(message));
    const call = api.list();
    const invoke = socket.sent.find((f) => f.t === 'invoke');
    const many = Array.from({ length: 50 }, (_, i) => ({ id: i, title: `todo é ${i}`, done: false }));
    const body = encodeBody({ t: 'reply', id: invoke.id, ok: many });
    socket.pushBinary(chunk(3, body.length, 0, body.subarray(0, 1000)));
    socket.push({ t: 'event', ch: 'todos:announce', args: ['between'] });
    socket.pushBinary(chunk(3, body.length, 1000, body.subarray(1000)));
    assert.deepEqual(await call, many);
    assert.deepEqual(events, ['between']);
    client.close(api);
  });

  it('sends a message longer than the main\'s max_frame as binary chunks, and refuses one above its max_message', async () => {
    const { api, socket } = await open({ ...hello(), max_frame: 1000, max_message: 10000 });
    const title = 'é'.repeat(3000); // 6000 bytes
    api.add(title).catch(() => {});
    assert.ok(socket.binary.length >= 7, `${socket.binary.length} chunks`);
    for (const bytes of socket.binary) assert.ok(bytes.length <= 1000);
    const [invoke] = unchunk(socket.binary);
    assert.equal(invoke.t, 'invoke');
    assert.equal(invoke.args[0], title);
    await assert.rejects(api.add('x'.repeat(20000)), { name: 'IpcFrameworkError', code: 'too_large', limit: 10000 });
    assert.throws(() => api.log('x'.repeat(20000)), { name: 'IpcFrameworkError', code: 'too_large' });
    client.close(api);

    // A main that announced no max_message takes no chunks.
    const plainMain = await open({ ...hello(), max_frame: 1000, max_message: undefined });
    await assert.rejects(plainMain.api.add('x'.repeat(2000)), { code: 'too_large', limit: 1000 });
    assert.deepEqual(plainMain.socket.binary, []);
    client.close(plainMain.api);
  });

  const BODY = encodeBody({ t: 'event', ch: 'todos:announce', args: ['x'.repeat(100)] });
  const MALFORMED = [
    ['a header shorter than 13 bytes', /shorter than its 13-byte header/, () => [Buffer.alloc(9)]],
    ['total 0', /total 0/, () => [chunk(1, 0, 0, Buffer.from('x'))]],
    ['a message that never started', /which never started/, () => [chunk(1, BODY.length, 50, BODY.subarray(50))]],
    ['an out-of-order offset', /offset 60 of message 1, which stands at 50/, () => [
      chunk(1, BODY.length, 0, BODY.subarray(0, 50)), chunk(1, BODY.length, 60, BODY.subarray(60)),
    ]],
    ['data past total', /data past its total/, () => [
      chunk(1, BODY.length, 0, BODY.subarray(0, 50)), chunk(1, BODY.length, 50, Buffer.concat([BODY.subarray(50), Buffer.from('!')])),
    ]],
    ['a total that changes', /total changed/, () => [
      chunk(1, BODY.length, 0, BODY.subarray(0, 50)), chunk(1, BODY.length + 1, 50, BODY.subarray(50)),
    ]],
    ['a 17th partial message', /while 16 messages are partial/, () => Array.from({ length: 17 }, (_, id) => chunk(id, BODY.length, 0, BODY.subarray(0, 10)))],
  ];
  for (const [name, reason, messages] of MALFORMED) {
    it(`closes the connection on ${name}`, async () => {
      const closes = [];
      const { api, socket } = await open(hello(), { onClose: (error) => closes.push(error) });
      const call = api.slow(1000);
      for (const bytes of messages()) socket.pushBinary(bytes);
      const error = await call.then(() => assert.fail('resolved'), (e) => e);
      assert.equal(error.code, 'protocol');
      assert.match(error.reason, reason);
      assert.equal(closes.length, 1);
      assert.equal(closes[0].code, 'protocol');
      assert.ok(socket.closed);
      assert.equal(socket.sent.at(-1).t, 'goodbye');
      await assert.rejects(api.list(), { code: 'disconnected' });
    });
  }

  it('closes the connection on a chunked message above its max_message', async () => {
    const { api, socket } = await open(hello(), { maxMessage: 100 });
    assert.equal(socket.sent[0].max_message, 100);
    const call = api.slow(1000);
    socket.pushBinary(chunk(1, BODY.length, 0, BODY.subarray(0, 50)));
    await assert.rejects(call, { code: 'too_large', size: BODY.length, limit: 100 });
  });

  it('throws on a send after the main ended the connection', async () => {
    const { api, socket } = await open();
    socket.end('server going away');
    await assert.rejects(api.list(), { code: 'disconnected' });
    assert.throws(() => api.log('too late'), (error) => {
      assert.ok(error instanceof client.IpcFrameworkError);
      assert.equal(error.code, 'disconnected');
      assert.match(error.reason, /server going away/);
      return true;
    });
    assert.equal(socket.sent.filter((f) => f.t === 'send').length, 0);
  });

  it('answers a ping at once with a pong of the same id', async () => {
    const { api, socket } = await open();
    socket.push({ t: 'ping', id: 7 });
    socket.push({ t: 'ping', id: Number.MAX_SAFE_INTEGER });
    socket.push({ t: 'pong', id: 3 }); // the client sends no pings: ignored
    assert.deepEqual(socket.sent.slice(1), [{ t: 'pong', id: 7 }, { t: 'pong', id: Number.MAX_SAFE_INTEGER }]);
    const call = api.list();
    const invoke = socket.sent.at(-1);
    socket.push({ t: 'reply', id: invoke.id, ok: [] });
    assert.deepEqual(await call, []);
    client.close(api);
  });

  it('answers reserved and unexpected frame types with a protocol error naming the type, and goes on', async () => {
    const closes = [];
    const { api, socket } = await open(hello(), { onClose: (error) => closes.push(error) });
    const warnings = [];
    const saved = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    try {
      socket.push({ t: 'port_open', port: 1 });
      socket.push({ t: 'send', ch: 'todos:log', args: [] });
      socket.push({ t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts });
      socket.push({ t: 'ping', id: -1 });
      socket.push({ no: 'type' });
      socket.push([1, 2]);
      socket.onmessage({ data: new Uint8Array([0x7b, 0x78, 0x7d]).buffer });
      socket.pushText({ t: 'ping', id: 1 });
    } finally {
      console.warn = saved;
    }
    const answers = socket.sent.filter((f) => f.t === 'error');
    assert.deepEqual(answers.slice(0, 6).map((f) => f.error.reason), [
      'unknown frame type `port_open`',
      'unexpected frame type `send` (a renderer does not receive it)',
      'unexpected frame type `hello` (a renderer does not receive it)',
      'a `ping` without a valid `id`',
      'a frame without a type',
      'a frame that is not a map',
    ]);
    assert.match(answers[6].error.reason, /^a frame that is not MessagePack: /);
    assert.equal(answers[7].error.reason, 'a text frame after the handshake (frames are MessagePack)');
    assert.deepEqual(answers[0], {
      t: 'error', error: { code: 'protocol', message: 'protocol error: unknown frame type `port_open`', reason: 'unknown frame type `port_open`' },
    });
    assert.equal(warnings.length, 8);
    assert.match(warnings[0], /does not take \(unknown frame type `port_open`\); answered with a protocol error/);
    // The connection goes on.
    assert.deepEqual(closes, []);
    const call = api.list();
    socket.push({ t: 'reply', id: socket.sent.at(-1).id, ok: [] });
    assert.deepEqual(await call, []);
    client.close(api);
    // Nothing is answered once closed.
    const before = socket.sent.length;
    socket.push({ t: 'ping', id: 1 });
    assert.equal(socket.sent.length, before);
  });
});
