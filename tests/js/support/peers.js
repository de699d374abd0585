'use strict';
// Scripted peers playing the Rust main, speaking raw frames, for the port, stream and request
// tests: a WebSocket class for the browser client, a byte-stream transport for the bridge.

const path = require('node:path');
const { EventEmitter } = require('node:events');

const { ROOT, eventually, generate } = require('./setup');
const { frameBytes, frameReader } = require('./session');

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

    send(data) {
      if (typeof data !== 'string') {
        this.binary.push(Uint8Array.from(data));
        return;
      }
      const frame = JSON.parse(data);
      this.sent.push(frame);
      if (frame.t === 'hello') setImmediate(() => this.onmessage({ data: JSON.stringify(hello) }));
    }

    push(frame) {
      if (!this.closed) this.onmessage({ data: JSON.stringify(frame) });
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
    reply(frame) { readable.emit('data', frameBytes(frame)); },
    hello(contracts, extra = {}) {
      this.reply(mainHello(contracts, extra));
    },
    /** Frames of these types the bridge sent (all but the hello when none are named). */
    frames(...types) {
      return received.filter((f) => (types.length === 0 ? f.t !== 'hello' : types.includes(f.t)));
    },
  });
}

module.exports = { portBindings, scriptedWebSocket, framesOf, mainHello, fakeMain, frameWhere, tick };
