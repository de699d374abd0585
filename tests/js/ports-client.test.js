'use strict';
// Ports, streams and requests from main (docs/PROTOCOL.md 7.1, 7.2) in the generated browser
// client (client.mjs), against a scripted main speaking raw frames over a WebSocket model: streams
// read with `for await` and left halfway, credits, uploads within credit, ports both ways, the
// page answering main's requests, and the bad input of 7.1's table answered as it says.

const assert = require('node:assert/strict');
const { describe, it, before } = require('node:test');
const { pathToFileURL } = require('node:url');

const { eventually } = require('./support/setup');
const { portBindings, scriptedWebSocket, framesOf, mainHello, frameWhere, tick } = require('./support/peers');

let client;
let contracts;

before(async () => {
  const bindings = portBindings();
  client = await import(pathToFileURL(bindings.path('client.mjs')).href);
  contracts = require(bindings.path('bridge.js')).CONTRACTS;
});

/** A connected client and its scripted main; `hello` adds fields to main's hello. */
async function connect(hello = {}) {
  const sockets = [];
  const warnings = [];
  const api = await client.connect('ws://127.0.0.1:1/ipc', {
    WebSocket: scriptedWebSocket(mainHello(contracts, hello), sockets),
    label: 'ports',
  });
  const socket = sockets[0];
  const warn = console.warn;
  const taken = new Set(); // invokes already handed to the test
  return {
    api,
    socket,
    warnings,
    push: (frame) => socket.push(frame),
    frames: (...types) => framesOf(socket, ...types),
    /** Waits for the client's next invoke of `channel`; returns it. */
    async invoked(channel) {
      const frame = await frameWhere(socket.sent, (f) => f.t === 'invoke' && f.ch === channel && !taken.has(f), `an invoke of ${channel}`);
      taken.add(frame);
      return frame;
    },
    /** Runs `body` with console.warn collected (the client warns when it refuses a frame). */
    async quietly(body) {
      console.warn = (...args) => warnings.push(args.join(' '));
      try {
        return await body();
      } finally {
        console.warn = warn;
      }
    },
  };
}

/** Calls `api.watch(limit)` and answers it with a stream on main's port `port`. */
async function watched(peer, port = 2, options) {
  const call = options === undefined ? peer.api.watch(10) : peer.api.watch(10, options);
  const invoke = await peer.invoked('todos:watch');
  peer.push({ t: 'reply', id: invoke.id, ok: { $ipc: 'stream', port }, ports: [port] });
  return call;
}

const todo = (id) => ({ id, title: `todo ${id}`, done: false });

describe('client: hello', () => {
  it('announces its port window and port limit', async () => {
    const peer = await connect();
    assert.deepEqual(peer.socket.sent[0], {
      t: 'hello', protocol: 1, role: 'renderer', codec: 'msgpack', contracts, label: 'ports',
      max_frame: 4194304, max_message: 67108864, port_window: 16, max_ports: 1024,
    });
    assert.equal(typeof peer.api.handleConfirm, 'function');
    client.close(peer.api);
  });
});

describe('client: streams from main', () => {
  it('reads a stream with for await, and leaving the loop halfway cancels it', async () => {
    const peer = await connect();
    const stream = await watched(peer);
    assert.ok(stream instanceof client.IpcStream);
    for (let i = 1; i <= 12; i++) peer.push({ t: 'port', port: 2, data: todo(i) });
    const seen = [];
    for await (const item of stream) {
      seen.push(item.id);
      if (seen.length === 10) break;
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await frameWhere(peer.socket.sent, (f) => f.t === 'close', 'the close');
    // One credit after half the window (8 read), none after the cancel.
    assert.deepEqual(peer.frames('credit', 'close'), [
      { t: 'credit', port: 2, n: 8 },
      { t: 'close', port: 2, reason: 'cancelled' },
    ]);
    // Items still on their way are dropped silently; nothing more is granted.
    peer.push({ t: 'port', port: 2, data: todo(13) });
    peer.push({ t: 'close', port: 2 });
    await tick();
    assert.deepEqual(peer.frames('credit', 'close', 'error').length, 2);
    client.close(peer.api);
  });

  it('keeps items that arrive before the page reads, within the window, and grants credit as it reads', async () => {
    const peer = await connect();
    const stream = await watched(peer);
    for (let i = 1; i <= 16; i++) peer.push({ t: 'port', port: 2, data: todo(i) });
    await tick();
    assert.deepEqual(peer.frames('credit'), [], 'no credit before the page reads');
    const iterator = stream[Symbol.asyncIterator]();
    for (let i = 1; i <= 7; i++) assert.equal((await iterator.next()).value.id, i);
    assert.deepEqual(peer.frames('credit'), [], 'no credit before half the window was read');
    assert.equal((await iterator.next()).value.id, 8);
    assert.deepEqual(peer.frames('credit'), [{ t: 'credit', port: 2, n: 8 }]);
    for (let i = 9; i <= 16; i++) assert.equal((await iterator.next()).value.id, i);
    assert.deepEqual(peer.frames('credit'), [{ t: 'credit', port: 2, n: 8 }, { t: 'credit', port: 2, n: 8 }]);
    peer.push({ t: 'close', port: 2 });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    assert.deepEqual(peer.frames('close'), [], 'a finished stream is not cancelled');
    client.close(peer.api);
  });

  it('ends with the producer\'s application error or a framework error', async () => {
    const peer = await connect();
    const failing = await watched(peer, 2);
    peer.push({ t: 'port', port: 2, data: todo(1) });
    peer.push({ t: 'close', port: 2, app: { kind: 'NotFound', id: 9 } });
    const items = [];
    const error = await (async () => {
      for await (const item of failing) items.push(item.id);
    })().then(() => assert.fail('ended'), (e) => e);
    assert.deepEqual(items, [1]);
    assert.ok(error instanceof client.IpcAppError);
    assert.equal(error.channel, 'todos:watch');
    assert.deepEqual(error.data, { kind: 'NotFound', id: 9 });

    const broken = await watched(peer, 4);
    peer.push({ t: 'close', port: 4, error: { code: 'handler_panicked', message: 'boom', reason: 'boom' } });
    await assert.rejects((async () => { for await (const _ of broken); })(), (e) => e instanceof client.IpcFrameworkError && e.code === 'handler_panicked' && e.reason === 'boom');
    client.close(peer.api);
  });

  it('stream.cancel(reason) and the call\'s signal stop a stream', async () => {
    const peer = await connect();
    const first = await watched(peer, 2);
    first.cancel();
    first.cancel();
    const controller = new AbortController();
    const second = await watched(peer, 4, { signal: controller.signal });
    const third = await watched(peer, 6);
    third.cancel('page closed the view');
    controller.abort();
    await frameWhere(peer.socket.sent, (f) => f.t === 'close' && f.port === 4, 'the second close');
    assert.deepEqual(peer.frames('close'), [
      { t: 'close', port: 2, reason: 'cancelled' },
      { t: 'close', port: 6, reason: 'page closed the view' },
      { t: 'close', port: 4, reason: 'cancelled' },
    ]);
    assert.deepEqual(await second[Symbol.asyncIterator]().next(), { value: undefined, done: true });
    assert.throws(() => first.cancel(5), TypeError);
    client.close(peer.api);
  });

  it('fails a stream, and a read waiting on it, when the connection ends', async () => {
    const peer = await connect();
    const stream = await watched(peer);
    const read = stream[Symbol.asyncIterator]().next();
    peer.socket.end('gone');
    await assert.rejects(read, (e) => e instanceof client.IpcFrameworkError && e.code === 'disconnected');
  });

  it('closes what a reply transfers when nothing takes it', async () => {
    const peer = await connect();
    const controller = new AbortController();
    const call = peer.api.watch(1, { signal: controller.signal });
    const invoke = await peer.invoked('todos:watch');
    controller.abort();
    await assert.rejects(call, { code: 'cancelled' });
    // The reply crossed the cancel: its stream is not received.
    peer.push({ t: 'reply', id: invoke.id, ok: { $ipc: 'stream', port: 2 }, ports: [2] });
    await frameWhere(peer.socket.sent, (f) => f.t === 'close', 'the close');
    assert.deepEqual(peer.frames('close'), [{ t: 'close', port: 2, reason: 'not received' }]);
    // A result that is not the declared stream fails the call, and closes what came along.
    const bad = peer.api.watch(2);
    const second = await peer.invoked('todos:watch');
    peer.push({ t: 'reply', id: second.id, ok: [1, 2], ports: [4] });
    await assert.rejects(bad, { code: 'bad_reply' });
    await frameWhere(peer.socket.sent, (f) => f.t === 'close' && f.port === 4, 'the close of port 4');
    client.close(peer.api);
  });
});

describe('client: stream arguments (uploads)', () => {
  it('pumps an iterable within the credit main grants, and stops when main closes the port', async () => {
    const peer = await connect({ port_window: 3 });
    let pulled = 0;
    let returned = false;
    const titles = {
      [Symbol.asyncIterator]() {
        return {
          next: async () => ({ value: `title ${++pulled}`, done: false }),
          return: async () => { returned = true; return { done: true }; },
        };
      },
    };
    const call = peer.api.import(titles);
    const invoke = await peer.invoked('todos:import');
    assert.deepEqual(invoke.args, [{ $ipc: 'stream', port: 1 }]);
    assert.deepEqual(invoke.ports, [1]);
    await eventually(() => peer.frames('port').length === 3, 'the first three items');
    await tick(30);
    assert.equal(peer.frames('port').length, 3, 'nothing past main\'s port_window');
    assert.equal(pulled, 3, 'no item is pulled before it may be sent');
    assert.deepEqual(peer.frames('port').map((f) => f.data), ['title 1', 'title 2', 'title 3']);
    peer.push({ t: 'credit', port: 1, n: 2 });
    await eventually(() => peer.frames('port').length === 5, 'two more items');
    peer.push({ t: 'close', port: 1, reason: 'cancelled' });
    await eventually(() => returned, 'the source\'s return()');
    peer.push({ t: 'reply', id: invoke.id, ok: 5 });
    assert.equal(await call, 5);
    peer.push({ t: 'credit', port: 1, n: 10 });
    await tick(30);
    assert.equal(peer.frames('port').length, 5);
    assert.equal(pulled, 5);
    assert.deepEqual(peer.frames('close'), [], 'the receiver closed it: nothing is sent back');
    client.close(peer.api);
  });

  it('sends an array and closes the port at its end; a source that throws closes it with an error', async () => {
    const peer = await connect();
    const call = peer.api.import(['a', 'b']);
    const invoke = await peer.invoked('todos:import');
    await frameWhere(peer.socket.sent, (f) => f.t === 'close', 'the end of the upload');
    assert.deepEqual(peer.frames('port', 'close'), [
      { t: 'port', port: 1, data: 'a' },
      { t: 'port', port: 1, data: 'b' },
      { t: 'close', port: 1 },
    ]);
    peer.push({ t: 'reply', id: invoke.id, ok: 2 });
    assert.equal(await call, 2);

    async function* failing() {
      yield 'c';
      throw new Error('disk gone');
    }
    peer.api.import(failing()).catch(() => {});
    await frameWhere(peer.socket.sent, (f) => f.t === 'close' && f.port === 3, 'the failed upload\'s close');
    assert.deepEqual(peer.frames('port', 'close').slice(3), [
      { t: 'port', port: 3, data: 'c' },
      { t: 'close', port: 3, error: { code: 'cancelled', message: 'todos.import: argument 1 (titles): the stream\'s source failed: disk gone', reason: 'disk gone' } },
    ]);
    // Items are checked as they go: a wrong one closes the stream with `bad_arguments`.
    const errors = [];
    const error = console.error;
    console.error = (...args) => errors.push(args.join(' '));
    try {
      peer.api.import(['ok', 42]).catch(() => {});
      await frameWhere(peer.socket.sent, (f) => f.t === 'close' && f.port === 5, 'the bad upload\'s close');
    } finally {
      console.error = error;
    }
    assert.equal(peer.frames('close').at(-1).error.code, 'bad_arguments');
    assert.match(errors[0], /item 2 must be a string, got the number 42/);
    assert.throws(() => peer.api.import(42), /argument 1 \(titles\) must be an iterable/);
    client.close(peer.api);
  });

  it('ends an upload whose call main refused, without telling main', async () => {
    const peer = await connect();
    let returned = false;
    function* endless() {
      try {
        for (;;) yield 'x';
      } finally {
        returned = true;
      }
    }
    const call = peer.api.import(endless());
    const invoke = await peer.invoked('todos:import');
    peer.push({ t: 'reply', id: invoke.id, error: { code: 'too_many_ports', message: 'too many', limit: 1 } });
    await assert.rejects(call, { code: 'too_many_ports', limit: 1 });
    await eventually(() => returned, 'the source\'s return()');
    await tick();
    assert.ok(peer.frames('close').every((f) => f.port !== 1));
    client.close(peer.api);
  });
});

describe('client: ports', () => {
  async function chat(peer, port = 2) {
    const call = peer.api.chat();
    const invoke = await peer.invoked('todos:chat');
    peer.push({ t: 'reply', id: invoke.id, ok: { $ipc: 'port', port }, ports: [port] });
    return call;
  }

  it('round-trips messages, keeps those that come before the listener, and closes both ways', async () => {
    const peer = await connect();
    const port = await chat(peer);
    assert.ok(port instanceof client.IpcPort);
    assert.equal(port.closed, false);
    peer.push({ t: 'port', port: 2, data: 'early 1' });
    peer.push({ t: 'port', port: 2, data: 'early 2' });
    await tick();
    const got = [];
    const stop = port.onMessage((m) => got.push(m));
    assert.deepEqual(got, ['early 1', 'early 2']);
    port.postMessage('hello');
    assert.deepEqual(peer.frames('port'), [{ t: 'port', port: 2, data: 'hello' }]);
    peer.push({ t: 'port', port: 2, data: 'HELLO' });
    assert.deepEqual(got, ['early 1', 'early 2', 'HELLO']);
    stop();
    peer.push({ t: 'port', port: 2, data: 'unheard for now' });
    assert.equal(got.length, 3);
    port.onMessage((m) => got.push(m));
    assert.equal(got.at(-1), 'unheard for now');
    assert.throws(() => port.postMessage(() => 1), /the message must be a string, got a function/);
    const closes = [];
    port.onClose((e) => closes.push(e));
    port.close();
    assert.equal(port.closed, true);
    assert.deepEqual(closes, [null]);
    assert.deepEqual(peer.frames('close'), [{ t: 'close', port: 2 }]);
    assert.throws(() => port.postMessage('late'), (e) => e instanceof client.IpcFrameworkError && e.code === 'disconnected');

    const other = await chat(peer, 4);
    const ended = new Promise((resolve) => other.onClose(resolve));
    peer.push({ t: 'close', port: 4 });
    assert.equal(await ended, null);
    assert.equal(other.closed, true);
    const broken = await chat(peer, 6);
    peer.push({ t: 'close', port: 6, error: { code: 'disconnected', message: 'gone', reason: 'gone' } });
    const error = await new Promise((resolve) => broken.onClose(resolve));
    assert.ok(error instanceof client.IpcFrameworkError);
    assert.equal(error.code, 'disconnected');

    // Messages that came before main's close, with no listener yet: the close waits for them,
    // and a listener added later gets them first, then the close; the port is then forgotten.
    const late = await chat(peer, 8);
    peer.push({ t: 'port', port: 8, data: 'before the close 1' });
    peer.push({ t: 'port', port: 8, data: 'before the close 2' });
    peer.push({ t: 'close', port: 8 });
    await tick();
    const order = [];
    late.onClose(() => order.push('closed'));
    assert.deepEqual(order, [], 'not closed while messages wait');
    late.onMessage((m) => order.push(m));
    await tick();
    assert.deepEqual(order, ['before the close 1', 'before the close 2', 'closed']);
    assert.equal(late.closed, true);
    client.close(peer.api);
  });

  it('posts within main\'s credit, queues the rest (up to 1024) and sends them as credit comes', async () => {
    const peer = await connect({ port_window: 2 });
    const port = await chat(peer);
    for (let i = 0; i < 5; i++) port.postMessage(`m${i}`);
    assert.deepEqual(peer.frames('port').map((f) => f.data), ['m0', 'm1']);
    peer.push({ t: 'credit', port: 2, n: 2 });
    assert.deepEqual(peer.frames('port').map((f) => f.data), ['m0', 'm1', 'm2', 'm3']);
    for (let i = 5; i < 1024 + 4; i++) port.postMessage(`m${i}`);
    assert.throws(() => port.postMessage('one too many'), (e) => e instanceof client.IpcFrameworkError && e.code === 'too_many_in_flight' && e.limit === 1024);
    port.close();
    client.close(peer.api);
  });
});

describe('client: requests from main', () => {
  it('answers with the handler\'s value, no_handler without one, handler_panicked for a throw', async () => {
    const peer = await connect();
    const reply = (id) => frameWhere(peer.socket.sent, (f) => f.t === 'reply' && f.id === id, `the reply to ${id}`);
    peer.push({ t: 'invoke', id: 1, ch: 'todos:confirm', args: ['delete?'] });
    assert.deepEqual(await reply(1), { t: 'reply', id: 1, error: { code: 'no_handler', message: 'no handler is registered for channel `todos:confirm`', channel: 'todos:confirm' } });
    const asked = [];
    const stop = peer.api.handleConfirm(async (question, signal) => {
      asked.push(question);
      assert.ok(signal instanceof AbortSignal);
      if (question === 'crash?') throw new Error('no idea');
      // What it throws cannot even be read: still an answer, not a request main waits on.
      if (question === 'odd?') throw { get message() { throw new Error('no message'); } };
      return question === 'yes?';
    });
    assert.throws(() => peer.api.handleConfirm(() => true), /already has a handler/);
    peer.push({ t: 'invoke', id: 2, ch: 'todos:confirm', args: ['yes?'] });
    peer.push({ t: 'invoke', id: 3, ch: 'todos:confirm', args: ['no?'], timeout_ms: 1000 });
    peer.push({ t: 'invoke', id: 4, ch: 'todos:confirm', args: ['crash?'] });
    assert.deepEqual(await reply(2), { t: 'reply', id: 2, ok: true });
    assert.deepEqual(await reply(3), { t: 'reply', id: 3, ok: false });
    assert.deepEqual(await reply(4), { t: 'reply', id: 4, error: { code: 'handler_panicked', message: 'todos.handleConfirm: the handler failed: no idea', channel: 'todos:confirm', reason: 'no idea' } });
    peer.push({ t: 'invoke', id: 8, ch: 'todos:confirm', args: ['odd?'] });
    const odd = await reply(8);
    assert.equal(odd.error.code, 'handler_panicked');
    assert.match(odd.error.reason, /could not be read: no message/);
    assert.deepEqual(asked, ['yes?', 'no?', 'crash?', 'odd?']);
    peer.push({ t: 'invoke', id: 5, ch: 'todos:confirm', args: [] });
    assert.equal((await reply(5)).error.code, 'bad_arguments');
    peer.push({ t: 'invoke', id: 6, ch: 'todos:nope', args: [] });
    assert.equal((await reply(6)).error.code, 'no_handler');
    stop();
    peer.push({ t: 'invoke', id: 7, ch: 'todos:confirm', args: ['after?'] });
    assert.equal((await reply(7)).error.code, 'no_handler');
    // A new handler may come once the first is gone.
    peer.api.handleConfirm(() => true)();
    client.close(peer.api);
  });

  it('aborts the handler on main\'s cancel (no reply) and answers `timeout` past timeout_ms', async () => {
    const peer = await connect();
    const signals = new Map();
    peer.api.handleConfirm((question, signal) => {
      signals.set(question, signal);
      return new Promise(() => {});
    });
    peer.push({ t: 'invoke', id: 10, ch: 'todos:confirm', args: ['cancel me'] });
    peer.push({ t: 'invoke', id: 11, ch: 'todos:confirm', args: ['time me out'], timeout_ms: 30 });
    await eventually(() => signals.size === 2, 'both requests');
    peer.push({ t: 'cancel', id: 10 });
    assert.equal(signals.get('cancel me').aborted, true);
    assert.equal(signals.get('cancel me').reason.code, 'cancelled');
    const timedOut = await frameWhere(peer.socket.sent, (f) => f.t === 'reply' && f.id === 11, 'the timeout');
    assert.deepEqual(timedOut.error, { code: 'timeout', message: 'todos:confirm timed out after 30 ms', channel: 'todos:confirm', after_ms: 30 });
    assert.equal(signals.get('time me out').aborted, true);
    assert.equal(signals.get('time me out').reason.code, 'timeout');
    await tick(20);
    assert.equal(peer.frames('reply').length, 1, 'no reply to a cancelled request');
    // A request id already running is answered `protocol`; the first one goes on.
    peer.push({ t: 'invoke', id: 12, ch: 'todos:confirm', args: ['one'] });
    peer.push({ t: 'invoke', id: 12, ch: 'todos:confirm', args: ['two'] });
    assert.equal((await frameWhere(peer.socket.sent, (f) => f.t === 'reply' && f.id === 12, 'the refusal')).error.code, 'protocol');
    client.close(peer.api);
  });
});

describe('client: bad input from main (docs/PROTOCOL.md 7.1)', () => {
  it('answers frames for ports never opened, and messages after main\'s own close, with protocol errors', async () => {
    const peer = await connect();
    await peer.quietly(async () => {
      peer.push({ t: 'port', port: 8, data: 1 });
      peer.push({ t: 'credit', port: 9, n: 1 });
      peer.push({ t: 'close', port: 10 });
      const stream = await watched(peer, 2);
      peer.push({ t: 'close', port: 2 });
      peer.push({ t: 'port', port: 2, data: todo(1) });
      await tick();
      assert.deepEqual(peer.frames('error').map((f) => f.error.reason), [
        '`port` for port 8, which was never opened',
        '`credit` for port 9, which was never opened',
        '`close` for port 10, which was never opened',
        'a `port` message on port 2 after the sender\'s own close',
      ]);
      assert.ok(peer.frames('error').every((f) => f.error.code === 'protocol'));
      assert.deepEqual(await stream[Symbol.asyncIterator]().next(), { value: undefined, done: true });
    });
    client.close(peer.api);
  });

  it('closes a port whose sender went past its credit, or that was given too much credit', async () => {
    const peer = await connect();
    const stream = await watched(peer, 2);
    for (let i = 1; i <= 17; i++) peer.push({ t: 'port', port: 2, data: todo(i) });
    const close = await frameWhere(peer.socket.sent, (f) => f.t === 'close', 'the close');
    assert.deepEqual(close, { t: 'close', port: 2, error: { code: 'protocol', message: 'protocol error: port 2 sent past its credit', reason: 'port 2 sent past its credit' } });
    // What arrived within credit is still read, then the error.
    const read = [];
    const error = await (async () => { for await (const item of stream) read.push(item.id); })().then(() => null, (e) => e);
    assert.equal(read.length, 16);
    assert.equal(error.code, 'protocol');

    const chatting = peer.api.chat();
    const invoke = await peer.invoked('todos:chat');
    peer.push({ t: 'reply', id: invoke.id, ok: { $ipc: 'port', port: 4 }, ports: [4] });
    const port = await chatting;
    peer.push({ t: 'credit', port: 4, n: 4294967295 });
    const closed = await frameWhere(peer.socket.sent, (f) => f.t === 'close' && f.port === 4, 'the close of port 4');
    assert.equal(closed.error.code, 'protocol');
    assert.equal(port.closed, true);
    client.close(peer.api);
  });

  it('refuses a message whose ports list is wrong: an error frame, or a reply to a request', async () => {
    const peer = await connect();
    await peer.quietly(async () => {
      const stop = peer.api.onChanged(() => assert.fail('a refused event was delivered'));
      peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 3 }], ports: [3] });
      peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 4 }], ports: [4, 4] });
      peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 0 }], ports: 'x' });
      await tick();
      assert.deepEqual(peer.frames('error').map((f) => f.error.code), ['protocol', 'protocol', 'protocol']);
      assert.match(peer.frames('error')[0].error.reason, /port 3, an id of the receiver's parity/);
      assert.match(peer.frames('error')[1].error.reason, /port 4, not above the sender's earlier port ids/);
      // A port that is open already.
      await watched(peer, 4);
      peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 4 }], ports: [4] });
      await tick();
      assert.match(peer.frames('error').at(-1).error.reason, /port 4, which is already open/);
      stop();
      peer.api.handleConfirm(() => true);
      peer.push({ t: 'invoke', id: 1, ch: 'todos:confirm', args: ['?'], ports: [1] });
      const reply = await frameWhere(peer.socket.sent, (f) => f.t === 'reply', 'the reply');
      assert.equal(reply.error.code, 'protocol');
      // An event nobody subscribed to: its ports close unread.
      peer.push({ t: 'event', ch: 'todos:changed', args: [{}], ports: [6] });
      // More ports than this side keeps open: too_many_ports.
      const many = Array.from({ length: 1025 }, (_, i) => 8 + 2 * i);
      peer.push({ t: 'event', ch: 'todos:changed', args: [{}], ports: many });
      await tick();
      assert.deepEqual(peer.frames('close'), [{ t: 'close', port: 6, reason: 'not received' }]);
      assert.equal(peer.frames('error').at(-1).error.code, 'too_many_ports');
      assert.equal(peer.frames('error').at(-1).error.limit, 1024);
    });
    client.close(peer.api);
  });

  it('gives an event\'s ports to the first subscription and closes those of an event nobody hears', async () => {
    const peer = await connect();
    peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 2 }], ports: [2] });
    await frameWhere(peer.socket.sent, (f) => f.t === 'close', 'the close');
    assert.deepEqual(peer.frames('close'), [{ t: 'close', port: 2, reason: 'not received' }]);
    const got = [];
    peer.api.onChanged((value) => got.push(['first', value]));
    peer.api.onChanged((value) => got.push(['second', value]));
    peer.push({ t: 'event', ch: 'todos:changed', args: [{ $ipc: 'stream', port: 4 }], ports: [4] });
    await eventually(() => got.length === 2, 'both listeners');
    assert.ok(got[0][1] instanceof client.IpcStream);
    assert.deepEqual(got[1][1], { $ipc: 'stream', port: 4 });
    client.close(peer.api);
  });
});
