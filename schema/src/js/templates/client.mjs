{{HEADER}}//
// Browser client: the same API object as the Electron preload's `window.{{KEY}}`, speaking the
// wire protocol (docs/PROTOCOL.md, JSON codec) over a WebSocket, one frame per message.
//
//   import { connect, close, IpcAppError } from './client.mjs';
//   const {{KEY}} = await connect('wss://example.invalid/ipc', { token, label: 'tab' });
//   ...
//   close({{KEY}});
//
// `connect` adds the token, when given, to the URL as `?token=` (what `Main::listen_websocket`
// checks at the upgrade), sends the hello with the contracts' hashes and the label, and resolves
// once the main has answered with its own hello.

{{CHECKS}}

{{ERRORS}}

const CONTRACTS = {{CONTRACTS}};
const API_KEY = {{KEY_JS}};
const PROTOCOL_VERSION = 1;
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;
// One entry per declared channel: namespace property (null with one service), JavaScript name,
// kind, wire channel, and [name, check] per positional parameter.
const METHODS = {{METHODS}};

{{API}}

const connections = new WeakMap();

function labelOf(m) {
  return m.ns === null ? `${API_KEY}.${m.name}` : `${API_KEY}.${m.ns}.${m.name}`;
}

function wireError(code, message, fields) {
  return Object.assign({ code, message }, fields);
}

function withToken(url, token) {
  if (typeof token !== 'string') return url;
  const base = typeof location !== 'undefined' ? location.href : undefined;
  const full = new URL(String(url), base);
  full.searchParams.set('token', token);
  return full.href;
}

/**
 * Opens a connection and resolves to the API object once the handshake is done.
 *
 * options: { token, label, WebSocket, handshakeTimeoutMs, maxFrame, onClose(error) }
 */
export function connect(url, options = {}) {
  const Socket = options.WebSocket || globalThis.WebSocket;
  if (typeof Socket !== 'function') {
    return Promise.reject(new TypeError('connect: no WebSocket implementation (pass options.WebSocket)'));
  }
  const label = typeof options.label === 'string' ? options.label : 'browser';
  const maxFrame = Number.isInteger(options.maxFrame) && options.maxFrame > 0 ? options.maxFrame : DEFAULT_MAX_FRAME;
  const handshakeTimeoutMs = Number.isInteger(options.handshakeTimeoutMs) ? options.handshakeTimeoutMs : 10000;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new Socket(withToken(url, options.token));
    } catch (error) {
      reject(new IpcFrameworkError(wireError('disconnected', `could not open the WebSocket: ${error.message}`, { reason: error.message })));
      return;
    }
    socket.binaryType = 'arraybuffer';
    let state = 'handshake';
    let closedError = null;
    let peerMaxFrame = DEFAULT_MAX_FRAME;
    let lastId = 0;
    const pending = new Map(); // id -> resolve(envelope)
    const listeners = new Map(); // channel -> Set of listener

    const timer = setTimeout(() => {
      fail(wireError('protocol', `no hello within ${handshakeTimeoutMs} ms`, { reason: 'handshake timeout' }));
    }, handshakeTimeoutMs);

    function transmit(frame) {
      if (state !== 'open') return closedError || wireError('disconnected', 'the connection is not open', { reason: 'not open' });
      let text;
      try {
        text = JSON.stringify(frame);
      } catch (e) {
        return wireError('encode', `${frame.ch}: the arguments cannot be encoded as JSON: ${e.message}`, { reason: e.message });
      }
      const size = text.length <= peerMaxFrame / 3 ? text.length : encoder.encode(text).length;
      if (size > peerMaxFrame) {
        return wireError('too_large', `${frame.ch}: a frame of ${size} bytes is above the main's limit of ${peerMaxFrame}`, { size, limit: peerMaxFrame });
      }
      socket.send(text);
      return null;
    }

    function fail(error) {
      if (state === 'closed') return;
      const wasOpen = state === 'open';
      state = 'closed';
      closedError = error;
      clearTimeout(timer);
      for (const [id, settle] of Array.from(pending)) {
        pending.delete(id);
        settle({ error });
      }
      try { socket.close(); } catch (_) { /* already closed */ }
      if (!wasOpen) reject(new IpcFrameworkError(error));
      else if (typeof options.onClose === 'function') options.onClose(new IpcFrameworkError(error));
    }

    const core = {
      invoke(index, args, timeoutMs) {
        const m = METHODS[index];
        const problem = argumentsProblem(labelOf(m), m.params, args);
        if (problem !== null) return { typeError: problem };
        const id = ++lastId;
        const frame = { t: 'invoke', id, ch: m.channel, args };
        if (timeoutMs !== null) frame.timeout_ms = timeoutMs;
        const promise = new Promise((settle) => {
          pending.set(id, settle);
          const error = transmit(frame);
          if (error !== null) {
            pending.delete(id);
            settle({ error });
          }
        });
        return { id, promise };
      },
      cancel(id) {
        const settle = pending.get(id);
        if (settle === undefined) return;
        pending.delete(id);
        transmit({ t: 'cancel', id });
        settle({ error: wireError('cancelled', 'cancelled by the caller') });
      },
      send(index, args) {
        const m = METHODS[index];
        const problem = argumentsProblem(labelOf(m), m.params, args);
        if (problem !== null) return problem;
        const error = transmit({ t: 'send', ch: m.channel, args });
        if (error !== null && typeof console !== 'undefined') console.error(`${labelOf(m)}: ${error.message}`);
        return null;
      },
      subscribe(index, listener) {
        const m = METHODS[index];
        let set = listeners.get(m.channel);
        if (set === undefined) {
          set = new Set();
          listeners.set(m.channel, set);
        }
        // A wrapper per subscription, so subscribing one function twice needs two disposals.
        const entry = (args) => listener(...args);
        set.add(entry);
        return { dispose() { set.delete(entry); } };
      },
    };

    function deliver(frame) {
      const set = listeners.get(frame.ch);
      if (set === undefined || !Array.isArray(frame.args)) return;
      for (const entry of Array.from(set)) {
        try {
          entry(frame.args);
        } catch (error) {
          // Report like an uncaught error without stopping the other listeners.
          setTimeout(() => { throw error; }, 0);
        }
      }
    }

    function onFrame(frame) {
      if (frame === null || typeof frame !== 'object') return;
      if (state === 'handshake') {
        if (frame.t === 'error') {
          fail(Object.assign(wireError('protocol', 'the main refused the connection'), frame.error));
        } else if (frame.t !== 'hello' || frame.role !== 'main') {
          fail(wireError('protocol', `expected the main's hello, got a \`${String(frame.t)}\` frame`, { reason: 'no hello' }));
        } else if (frame.protocol !== PROTOCOL_VERSION) {
          fail(wireError('version_mismatch', `protocol ${PROTOCOL_VERSION} (client) differs from protocol ${frame.protocol} (main)`, { ours: `protocol ${PROTOCOL_VERSION}`, theirs: `protocol ${frame.protocol}` }));
        } else {
          const theirs = frame.contracts !== null && typeof frame.contracts === 'object' ? frame.contracts : {};
          for (const ns of Object.keys(CONTRACTS)) {
            if (typeof theirs[ns] === 'string' && theirs[ns] !== CONTRACTS[ns]) {
              fail(wireError('version_mismatch', `contract \`${ns}\` differs: the client was generated from ${CONTRACTS[ns]}, the main has ${theirs[ns]}`, { ours: `contract \`${ns}\` ${CONTRACTS[ns]}`, theirs: `contract \`${ns}\` ${theirs[ns]}` }));
              return;
            }
          }
          if (Number.isInteger(frame.max_frame) && frame.max_frame > 0) peerMaxFrame = frame.max_frame;
          state = 'open';
          clearTimeout(timer);
          const api = buildApi(core, METHODS, { key: API_KEY, define: false, plainErrors: false });
          connections.set(api, (reason) => {
            if (state === 'open') socket.send(JSON.stringify({ t: 'goodbye', reason }));
            fail(wireError('disconnected', `closed by the page: ${reason}`, { reason }));
          });
          resolve(api);
        }
        return;
      }
      switch (frame.t) {
        case 'reply': {
          const settle = pending.get(frame.id);
          if (settle === undefined) return;
          pending.delete(frame.id);
          if (Object.prototype.hasOwnProperty.call(frame, 'ok')) settle({ ok: frame.ok });
          else if (Object.prototype.hasOwnProperty.call(frame, 'app')) settle({ app: frame.app });
          else settle({ error: frame.error });
          break;
        }
        case 'event':
          deliver(frame);
          break;
        case 'error': {
          const settle = Number.isInteger(frame.id) ? pending.get(frame.id) : undefined;
          if (settle !== undefined) {
            pending.delete(frame.id);
            settle({ error: frame.error });
          } else if (typeof console !== 'undefined') {
            console.error(`${API_KEY}: the main reported an error:`, frame.error);
          }
          break;
        }
        case 'goodbye':
          fail(wireError('disconnected', `the main said goodbye: ${String(frame.reason)}`, { reason: String(frame.reason) }));
          break;
        default:
          break; // Unknown frame types are ignored, as the protocol asks.
      }
    }

    socket.onopen = () => {
      socket.send(JSON.stringify({ t: 'hello', protocol: PROTOCOL_VERSION, role: 'renderer', codec: 'json', contracts: CONTRACTS, label, max_frame: maxFrame }));
    };
    socket.onmessage = (message) => {
      const data = message.data;
      let text;
      if (typeof data === 'string') text = data;
      else if (data instanceof ArrayBuffer) text = decoder.decode(data);
      else if (ArrayBuffer.isView(data)) text = decoder.decode(data);
      else return;
      if (text.length > maxFrame) {
        fail(wireError('too_large', `the main sent a frame of ${text.length} characters, above the limit of ${maxFrame}`, { size: text.length, limit: maxFrame }));
        return;
      }
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (e) {
        if (typeof console !== 'undefined') console.error(`${API_KEY}: a frame that is not JSON: ${e.message}`);
        return;
      }
      onFrame(frame);
    };
    socket.onerror = () => {
      fail(wireError('disconnected', 'the WebSocket failed', { reason: 'socket error' }));
    };
    socket.onclose = (event) => {
      const reason = event && event.reason ? event.reason : `code ${event ? event.code : 'unknown'}`;
      fail(wireError('disconnected', `the WebSocket closed (${reason})`, { reason }));
    };
  });
}

/** Closes the connection behind an API object from `connect`; its pending calls fail with `disconnected`. */
export function close(api, reason = 'closed') {
  const closeConnection = connections.get(api);
  if (closeConnection !== undefined) closeConnection(String(reason));
}

export { IpcAppError, IpcFrameworkError };
