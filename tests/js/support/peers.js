'use strict';
// Scripted peers playing the Rust main, speaking raw frames, for the port, stream and request
// tests: a WebSocket class for the browser client, a byte-stream transport for the bridge.

const path = require('node:path');
const { EventEmitter } = require('node:events');
const { spawn } = require('node:child_process');

const { ROOT, binaries, eventually, generate } = require('./setup');
const { frameBytes, frameReader } = require('./session');
const { packFrame, unpackFrame } = require('./msgpack');

/** A frame as a WebSocket binary message (an ArrayBuffer). */
function packed(frame) {
  const bytes = packFrame(frame, 0);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
}

/**
 * Bindings of the golden `todos` contract (schema/tests/golden/todos): the examples' Todos plus a
 * stream result (`watch`), a stream argument (`import`), a port result (`chat`) and a request
 * from main (`handleConfirm`).
 */
function portBindings(options = {}) {
  return generate({ schema: path.join(ROOT, 'schema', 'tests', 'golden', 'todos', 'schema.json'), ...options });
}

const tick = (ms = 10) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `frames` has a frame for which `match` holds; returns it. */
async function frameWhere(frames, match, what, timeoutMs = 3000) {
  return eventually(() => frames.find(match), what, timeoutMs);
}

/**
 * A WebSocket class whose server answers the hello with `hello` and is then the test's: each
 * instance records the client's text frames (`sent`) and lets the test push frames (`push`).
 */
function scriptedWebSocket(hello, sockets = []) {
  return class ScriptedWebSocket {
    constructor(url) {
      this.url = String(url);
      this.sent = [];
      this.binary = [];
      this.closed = false;
      sockets.push(this);
      setImmediate(() => this.onopen());
    }

    // The client's hello is JSON text; its frames after it are binary MessagePack, and chunks
    // (first byte 0) are kept as they are.
    send(data) {
      if (typeof data !== 'string') {
        const bytes = Uint8Array.from(data);
        if (bytes[0] === 0) this.binary.push(bytes);
        else this.sent.push(unpackFrame(bytes));
        return;
      }
      const frame = JSON.parse(data);
      this.sent.push(frame);
      if (frame.t === 'hello') setImmediate(() => this.onmessage({ data: JSON.stringify(hello) }));
    }

    push(frame) {
      if (!this.closed) this.onmessage({ data: packed(frame) });
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

/** The frames of the scripted socket after the hello, of the given types. */
function framesOf(socket, ...types) {
  return socket.sent.filter((f) => types.length === 0 || types.includes(f.t));
}

/**
 * A WebSocket class whose server side is a fresh Rust main child process per connection (the
 * examples' Todos over stdio, messages relayed as they are): each instance records what the
 * client sent (`sent`: the JSON hello, then the MessagePack frames decoded) and counts the chunk
 * messages both ways; `log` collects the instances.
 */
function rustWebSocket(log) {
  return class RustWebSocket {
    constructor(url) {
      this.url = String(url);
      this.sent = [];
      log.push(this);
      this.child = spawn(binaries().todosMain, [], { stdio: ['pipe', 'pipe', 'ignore'] });
      this.chunksSent = 0;
      this.chunksReceived = 0;
      let pieces = [];
      let size = 0;
      this.child.stdout.on('data', (chunk) => {
        pieces.push(chunk);
        size += chunk.length;
        let buffered = Buffer.concat(pieces, size);
        while (buffered.length >= 4) {
          const length = buffered.readUInt32BE(0);
          if (buffered.length < 4 + length) break;
          const body = buffered.subarray(4, 4 + length);
          buffered = buffered.subarray(4 + length);
          // The handshake travels as text (JSON), every later frame and chunk as binary.
          let data;
          if (body[0] === 0x7b) {
            data = body.toString('utf8');
          } else {
            if (body[0] === 0) this.chunksReceived += 1;
            data = body.buffer.slice(body.byteOffset, body.byteOffset + body.length);
          }
          if (this.onmessage) this.onmessage({ data });
        }
        pieces = [buffered];
        size = buffered.length;
      });
      this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
        if (this.onclose) this.onclose({ code: 1000, reason: 'server closed' });
        resolve(code);
      }));
      setImmediate(() => this.onopen && this.onopen());
    }

    send(data) {
      if (typeof data !== 'string') {
        if (!(data instanceof Uint8Array)) throw new TypeError('binary messages are Uint8Arrays');
        if (data[0] === 0) this.chunksSent += 1;
        else this.sent.push(unpackFrame(data));
        const header = Buffer.alloc(4);
        header.writeUInt32BE(data.length, 0);
        this.child.stdin.write(Buffer.concat([header, data]));
        return;
      }
      this.sent.push(JSON.parse(data));
      this.child.stdin.write(frameBytes(JSON.parse(data), true));
    }

    close() {
      this.child.stdin.end();
    }
  };
}

/** main's hello, as a scripted main sends it. */
function mainHello(contracts, extra = {}) {
  return { t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts, renderer: 7, max_frame: 4194304, max_message: 67108864, ...extra };
}

/**
 * A scripted main on a byte stream (for the bridge): records the bridge's frames (`received`),
 * `reply(frame)` sends one; `hello(contracts, extra)` answers the handshake. While `stalled` is
 * set, its stream's write() answers false until `drain()`.
 */
function fakeMain() {
  const readable = new EventEmitter();
  const received = [];
  const main = new EventEmitter();
  const read = frameReader((frame) => {
    received.push(frame);
    main.emit('frame', frame);
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
    stalled: false,
    ended: () => ended,
    drain() {
      main.stalled = false;
      writable.emit('drain');
    },
    // Until its hello, what the main says is JSON (the handshake); MessagePack after it.
    saidHello: false,
    reply(frame) {
      const json = !main.saidHello;
      if (frame.t === 'hello') main.saidHello = true;
      readable.emit('data', frameBytes(frame, json));
    },
    hello(contracts, extra = {}) {
      this.reply(mainHello(contracts, extra));
    },
    /** Frames of these types the bridge sent (all but the hello when none are named). */
    frames(...types) {
      return received.filter((f) => (types.length === 0 ? f.t !== 'hello' : types.includes(f.t)));
    },
  });
}

/**
 * The generated browser client connected to a real Rust main (the examples' Todos contract, over
 * `rustWebSocket`), for a `describe` block: `before` connects, `after` closes and waits for the
 * main to exit. Returns getters: `api()` and `sent()` (the frames the client sent).
 */
function realBrowserClient() {
  const { before, after } = require('node:test');
  const { pathToFileURL } = require('node:url');
  const { generate } = require('./setup');
  let client;
  let api;
  let socket;
  before(async () => {
    client = await import(pathToFileURL(generate().path('client.mjs')).href);
    const sockets = [];
    api = await client.connect('ws://127.0.0.1:1/ipc', { WebSocket: rustWebSocket(sockets) });
    socket = sockets[0];
  });
  after(async () => {
    client.close(api);
    await socket.exited;
  });
  return { api: () => api, sent: () => socket.sent };
}

module.exports = { portBindings, scriptedWebSocket, rustWebSocket, realBrowserClient, framesOf, mainHello, fakeMain, frameWhere, tick, packed };
