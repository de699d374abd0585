'use strict';
// The generated browser client (client.mjs) over a WebSocket model: each message is one frame
// body, relayed to a real Rust main (the examples' Todos contract over stdio) with the length
// prefix of the byte transport added and removed, as a WebSocket server in front of the main
// would do.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { describe, it, before, after } = require('node:test');
const { pathToFileURL } = require('node:url');

const { binaries, eventually, generate } = require('./support/setup');
const { frameBytes } = require('./support/session');

/** A WebSocket class whose server side is a fresh Rust main child process per connection. */
function rustWebSocket(log) {
  return class RustWebSocket {
    constructor(url) {
      this.url = String(url);
      this.sent = [];
      log.push(this);
      this.child = spawn(binaries().todosMain, [], { stdio: ['pipe', 'pipe', 'ignore'] });
      let buffered = Buffer.alloc(0);
      this.child.stdout.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0);
          if (buffered.length < 4 + length) break;
          const body = buffered.subarray(4, 4 + length).toString('utf8');
          buffered = buffered.subarray(4 + length);
          if (this.onmessage) this.onmessage({ data: body });
        }
      });
      this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
        if (this.onclose) this.onclose({ code: 1000, reason: 'server closed' });
        resolve(code);
      }));
      setImmediate(() => this.onopen && this.onopen());
    }

    send(text) {
      assert.equal(typeof text, 'string');
      this.sent.push(JSON.parse(text));
      this.child.stdin.write(frameBytes(JSON.parse(text)));
    }

    close() {
      this.child.stdin.end();
    }
  };
}

/** A WebSocket class whose server answers the hello with `answer`. */
function scriptedWebSocket(answer) {
  return class ScriptedWebSocket {
    constructor() {
      setImmediate(() => this.onopen());
    }

    send(text) {
      const frame = JSON.parse(text);
      if (frame.t === 'hello') setImmediate(() => this.onmessage({ data: JSON.stringify(answer) }));
    }

    close() {}
  };
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
      t: 'hello', protocol: 1, role: 'renderer', codec: 'json', contracts, label: 'browser-tab', max_frame: 4194304,
    });
  });

  it('has the same API object shape as the preload', () => {
    assert.deepEqual(Object.keys(api).sort(), [
      'add', 'crash', 'list', 'log', 'onAnnounce', 'onChanged', 'slow', 'stats', 'toggle',
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

  it('fails pending and later calls when closed', async () => {
    const other = await client.connect('ws://127.0.0.1:1/ipc', { WebSocket: rustWebSocket(sockets) });
    const call = other.slow(10000);
    client.close(other, 'done');
    await assert.rejects(call, { code: 'disconnected' });
    await assert.rejects(other.list(), { code: 'disconnected' });
    assert.deepEqual(sockets.at(-1).sent.at(-1), { t: 'goodbye', reason: 'done' });
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

