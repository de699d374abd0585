{{HEADER}}//
// Browser client: the same API object as the Electron preload's `window.{{KEY}}`, speaking the
// wire protocol (docs/PROTOCOL.md, the msgpack codec) over a WebSocket, one frame per binary
// message (the handshake in JSON text); bytes travel as bytes (`Uint8Array`).
//
//   import { connect, close, IpcAppError } from './client.mjs';
//   const {{KEY}} = await connect('wss://example.invalid/ipc', { token, label: 'tab' });
//   ...
//   close({{KEY}});
//
// `connect` adds the token, when given, to the URL as `?token=` (what `Main::listen_websocket`
// checks at the upgrade), sends the hello with the contracts' hashes and the label, and resolves
// once the main has answered with its own hello. It answers the main's pings at once, and frames
// it does not take (reserved types, or types only the main receives) with a `protocol` error,
// keeping the connection (docs/PROTOCOL.md sections 7 and 8).
//
// Ports and streams (section 7.1) become `IpcStream`s (`for await`) and `IpcPort`s; a stream
// argument is any iterable, sent within the credit the main grants. Requests from the main
// (section 7.2) are answered by the handlers registered with `api.handleX(handler)`.

{{CHECKS}}

{{POLICY}}

{{CHUNKS}}

{{MSGPACK}}

{{ERRORS}}

{{HANDLES}}

{{PORTS}}

const CONTRACTS = {{CONTRACTS}};
// Whether an integer beyond 2^53 from main is read as a bigint (a contract declares
// `large_ints = "bigint"`) rather than a number.
const LARGE_INTS_BIGINT = {{BIGINTS}};
const API_KEY = {{KEY_JS}};
const PROTOCOL_VERSION = 1;
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
// One entry per declared channel: namespace property (null with one service), JavaScript name,
// kind, wire channel, and [name, check] per positional parameter.
const METHODS = {{METHODS}};
// By namespace: the capability contracts whose handles reach the page, with their methods.
const CAPABILITIES = {{CAPABILITIES}};

{{API}}

const connections = new WeakMap();

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
 * options: { token, label, WebSocket, handshakeTimeoutMs, maxFrame, maxMessage, onClose(error) }
 */
export function connect(url, options = {}) {
  const Socket = options.WebSocket || globalThis.WebSocket;
  if (typeof Socket !== 'function') {
    return Promise.reject(new TypeError('connect: no WebSocket implementation (pass options.WebSocket)'));
  }
  const label = typeof options.label === 'string' ? options.label : 'browser';
  const maxFrame = Number.isInteger(options.maxFrame) && options.maxFrame > 0 ? options.maxFrame : DEFAULT_MAX_FRAME;
  const maxMessage = Math.min(Number.isInteger(options.maxMessage) && options.maxMessage > 0 ? options.maxMessage : DEFAULT_MAX_MESSAGE, MAX_CHUNKED_MESSAGE);
  const handshakeTimeoutMs = Number.isInteger(options.handshakeTimeoutMs) ? options.handshakeTimeoutMs : 10000;

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
    let peerMaxMessage = DEFAULT_MAX_FRAME;
    let peerPortWindow = PORT_WINDOW;
    let peerMaxPorts = MAX_PORTS;
    let lastId = 0;
    let lastChunkId = 0;
    const pending = new Map(); // id -> resolve(envelope)
    const uploadsOf = new Map(); // id -> the ports of the call's stream arguments
    const listeners = new Map(); // channel -> Set of { deliver(args, ports), lag(missed) }
    const assembler = chunkAssembler(maxMessage);
    const ports = portTable({
      strict: true,
      send: (frame) => transmit(frame),
      problem: (reason, error) => refuse(reason, error),
      initialCredit: () => peerPortWindow,
      maxOwnPorts: () => peerMaxPorts,
    });
    const requests = requestTable({
      methods: METHODS,
      strict: true,
      ports,
      problem: (reason) => refuse(reason),
      reply: (frame) => transmit(frame),
    });

    const timer = setTimeout(() => {
      fail(wireError('protocol', `no hello within ${handshakeTimeoutMs} ms`, { reason: 'handshake timeout' }));
    }, handshakeTimeoutMs);

    function transmit(frame) {
      if (state !== 'open') {
        if (closedError !== null && closedError.code === 'disconnected') return closedError;
        const reason = closedError !== null ? closedError.message : 'not open';
        return wireError('disconnected', `the connection is closed (${reason})`, { reason });
      }
      const what = typeof frame.ch === 'string' ? frame.ch : `${frame.t} on port ${frame.port}`;
      let body;
      try {
        body = packFrame(frame, 0);
      } catch (e) {
        return wireError('encode', `${what}: the value cannot be encoded: ${e.message}`, { reason: e.message });
      }
      if (body.length <= peerMaxFrame) {
        socket.send(body);
        return null;
      }
      // Main takes longer messages only in chunks, and only when it announced a larger max_message.
      const limit = peerMaxMessage > peerMaxFrame && peerMaxFrame > CHUNK_HEADER ? peerMaxMessage : peerMaxFrame;
      if (body.length > limit) {
        return wireError('too_large', `${what}: a message of ${body.length} bytes is above the main's limit of ${limit}`, { size: body.length, limit });
      }
      lastChunkId = (lastChunkId + 1) >>> 0;
      for (const chunk of chunkFrames(body, lastChunkId, peerMaxFrame, 0)) socket.send(chunk);
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
      uploadsOf.clear();
      ports.closeAll(error);
      requests.closeAll();
      try { socket.close(); } catch (_) { /* already closed */ }
      if (!wasOpen) reject(new IpcFrameworkError(error));
      else if (typeof options.onClose === 'function') options.onClose(new IpcFrameworkError(error));
    }

    const core = {
      invoke(index, args, timeoutMs, transfer) {
        // buildApi has checked the arguments and opened a port per stream argument.
        const m = METHODS[index];
        const id = ++lastId;
        const frame = { t: 'invoke', id, ch: m.channel, args: wireArgs(m.params, args) };
        if (timeoutMs !== null) frame.timeout_ms = timeoutMs;
        const uploads = Array.isArray(transfer) && transfer.length > 0 ? transfer.slice() : null;
        if (uploads !== null) frame.ports = uploads;
        const promise = new Promise((settle) => {
          pending.set(id, settle);
          const error = transmit(frame);
          if (error !== null) {
            pending.delete(id);
            if (uploads !== null) ports.discard(uploads, error);
            settle({ error });
          } else if (uploads !== null) {
            ports.sent(uploads);
            uploadsOf.set(id, uploads);
          }
        });
        return { id, promise };
      },
      cancel(id) {
        const settle = pending.get(id);
        if (settle === undefined) return;
        pending.delete(id);
        uploadsOf.delete(id);
        transmit({ t: 'cancel', id });
        settle({ error: wireError('cancelled', 'cancelled by the caller') });
      },
      // Returns the wire error of a send that cannot go (buildApi throws it).
      send(index, args) {
        const m = METHODS[index];
        return transmit({ t: 'send', ch: m.channel, args: wireArgs(m.params, args) });
      },
      subscribe(index, listener, lag) {
        const m = METHODS[index];
        let set = listeners.get(m.channel);
        if (set === undefined) {
          set = new Set();
          listeners.set(m.channel, set);
        }
        // An entry per subscription, so subscribing one function twice needs two disposals.
        const entry = { deliver: (args, ids) => listener(args, ids), lag };
        set.add(entry);
        return { dispose() { set.delete(entry); } };
      },
      handle(index, serve, abort) {
        return requests.handle(index, serve, abort);
      },
      portOpen: () => ports.open(),
      portDiscard: (ids) => ports.discard(ids.filter((id) => ports.isFresh(id))),
      portRelease: (ids) => ports.release(ids),
      portClose(id, reason, error) {
        const fields = {};
        if (typeof reason === 'string') fields.reason = reason;
        if (error !== null && typeof error === 'object') fields.error = error;
        ports.close(id, fields);
      },
      portPull: (id) => ports.pull(id),
      portWatch: (id, onMessage, onEnd) => ports.watch(id, onMessage, onEnd),
      portPost: (id, data) => ports.post(id, data),
      portReady: (id) => ports.ready(id),
      portIsClosed: (id) => ports.isClosed(id),
    };

    function each(channel, call) {
      const set = listeners.get(channel);
      if (set === undefined) return;
      for (const entry of Array.from(set)) {
        try {
          call(entry);
        } catch (error) {
          // Report like an uncaught error without stopping the other listeners.
          setTimeout(() => { throw error; }, 0);
        }
      }
    }

    // Answers to the main's frames (pong, protocol errors); nothing once the connection is closed.
    function answer(frame) {
      if (state !== 'open') return;
      try {
        socket.send(packFrame(frame, 0));
      } catch (_) { /* the socket is closing; its close event fails the connection */ }
    }

    // A frame the client does not take: the main is told (error `protocol` naming the type) and
    // the connection goes on.
    function unexpected(reason) {
      if (typeof console !== 'undefined') console.warn(`${API_KEY}: the main sent a frame the client does not take (${reason}); answered with a protocol error`);
      answer({ t: 'error', error: { code: 'protocol', message: `protocol error: ${reason}`, reason } });
    }

    // Bad port input from the main (docs/PROTOCOL.md 7.1's table): an error frame, `protocol`
    // or the given error (`too_many_ports`); the connection goes on.
    function refuse(reason, error) {
      if (typeof console !== 'undefined') console.warn(`${API_KEY}: refused a frame of the main: ${reason}`);
      answer({ t: 'error', error: error || { code: 'protocol', message: `protocol error: ${reason}`, reason } });
    }

    // The ports a frame transfers, opened: `{ ids }`, or `{ error }` (refused, and the peer told).
    function transferred(frame) {
      if (frame.ports === undefined || frame.ports === null) return { ids: [] };
      const accepted = ports.accept(frame.ports);
      if (accepted.error !== undefined) refuse(accepted.error.reason || accepted.error.message, accepted.error);
      return accepted;
    }

    function onFrame(frame) {
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
        if (state === 'open') unexpected('a frame that is not a map');
        return;
      }
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
          if (Number.isInteger(frame.port_window) && frame.port_window > 0) peerPortWindow = Math.min(frame.port_window, MAX_CREDIT);
          if (Number.isInteger(frame.max_ports) && frame.max_ports > 0) peerMaxPorts = frame.max_ports;
          // Absent: main takes no chunked messages.
          peerMaxMessage = Number.isInteger(frame.max_message) && frame.max_message > 0
            ? Math.min(frame.max_message, MAX_CHUNKED_MESSAGE)
            : peerMaxFrame;
          state = 'open';
          clearTimeout(timer);
          // A page sees only the methods its origin may call (the Rust main checks again).
          const page = { kind: 'page', origin: typeof location === 'object' && location !== null ? location.origin : undefined };
          const api = buildApi(core, METHODS, { key: API_KEY, define: false, plainErrors: false, hidden: hiddenMethods(METHODS, page), capabilities: CAPABILITIES });
          connections.set(api, (reason) => {
            answer({ t: 'goodbye', reason });
            fail(wireError('disconnected', `closed by the page: ${reason}`, { reason }));
          });
          resolve(api);
        }
        return;
      }
      switch (frame.t) {
        case 'reply': {
          const settle = pending.get(frame.id);
          const hasOk = Object.prototype.hasOwnProperty.call(frame, 'ok');
          const hasApp = !hasOk && Object.prototype.hasOwnProperty.call(frame, 'app');
          const accepted = hasOk || hasApp ? transferred(frame) : { ids: [] };
          if (accepted.error !== undefined) {
            // Refused for its ports: the call fails with that error rather than waiting forever.
            if (settle !== undefined) {
              pending.delete(frame.id);
              uploadsOf.delete(frame.id);
              settle({ error: accepted.error });
            }
            return;
          }
          const ids = accepted.ids;
          if (settle === undefined) {
            ports.release(ids); // a call given up on: what its reply transfers is not received
            return;
          }
          pending.delete(frame.id);
          const uploads = uploadsOf.get(frame.id);
          uploadsOf.delete(frame.id);
          if (hasOk) settle({ ok: frame.ok, ports: ids });
          else if (hasApp) settle({ app: frame.app, ports: ids });
          else {
            const error = frame.error !== null && typeof frame.error === 'object' ? frame.error : {};
            // Refused for its own ports: main opened none of them.
            if (uploads !== undefined && (error.code === 'too_many_ports' || error.code === 'protocol')) ports.discard(uploads, error);
            settle({ error: frame.error });
          }
          break;
        }
        case 'event': {
          if (!Array.isArray(frame.args)) break;
          const accepted = transferred(frame);
          if (accepted.error !== undefined) break;
          const ids = accepted.ids;
          const set = listeners.get(frame.ch);
          if (set === undefined || set.size === 0) {
            ports.release(ids);
            break;
          }
          // A port has one owner: the first subscription gets the ports, the others the references.
          let first = true;
          each(frame.ch, (entry) => {
            const given = first ? ids : [];
            first = false;
            entry.deliver(frame.args, given);
          });
          break;
        }
        case 'port':
        case 'credit':
        case 'close':
          ports.receive(frame);
          break;
        case 'invoke':
        case 'cancel':
          requests.receive(frame);
          break;
        case 'lag':
          if (Number.isInteger(frame.missed) && frame.missed >= 0) each(frame.ch, (entry) => entry.lag(frame.missed));
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
        case 'ping':
          // Liveness (docs/PROTOCOL.md section 7): answered at once; a peer that does not answer is cut.
          if (Number.isInteger(frame.id) && frame.id >= 0) answer({ t: 'pong', id: frame.id });
          else unexpected('a `ping` without a valid `id`');
          break;
        case 'pong':
          break; // The client sends no pings; a stray pong is harmless.
        case 'hello':
        case 'send':
        case 'detach':
          unexpected(`unexpected frame type \`${frame.t}\` (a renderer does not receive it)`);
          break;
        default:
          // Reserved for later versions (docs/PROTOCOL.md section 8): answered, the connection goes on.
          unexpected(typeof frame.t === 'string' ? `unknown frame type \`${frame.t}\`` : 'a frame without a type');
          break;
      }
    }

    socket.onopen = () => {
      socket.send(JSON.stringify({ t: 'hello', protocol: PROTOCOL_VERSION, role: 'renderer', codec: 'msgpack', contracts: CONTRACTS, label, max_frame: maxFrame, max_message: maxMessage, port_window: PORT_WINDOW, max_ports: MAX_PORTS }));
    };
    // The handshake (main's hello, or its refusal) is JSON text; every frame after main's hello
    // is a binary MessagePack message, and a chunk when its first byte is 0.
    socket.onmessage = (message) => {
      if (state === 'closed') return;
      const data = message.data;
      if (typeof data === 'string') {
        if (data.length > maxFrame) {
          fail(wireError('too_large', `the main sent a frame of ${data.length} characters, above the limit of ${maxFrame}`, { size: data.length, limit: maxFrame }));
          return;
        }
        if (state !== 'handshake') {
          unexpected('a text frame after the handshake (frames are MessagePack)');
          return;
        }
        let frame;
        try {
          frame = JSON.parse(data);
        } catch (e) {
          if (typeof console !== 'undefined') console.error(`${API_KEY}: a handshake frame that is not JSON: ${e.message}`);
          return;
        }
        onFrame(frame);
        return;
      }
      let bytes;
      if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else return;
      if (bytes.length > maxFrame) {
        fail(wireError('too_large', `the main sent a frame of ${bytes.length} bytes, above the limit of ${maxFrame}`, { size: bytes.length, limit: maxFrame }));
        return;
      }
      if (bytes.length > 0 && bytes[0] === 0) {
        onChunk(bytes);
        return;
      }
      onPacked(bytes);
    };
    function onPacked(bytes) {
      if (state === 'handshake') {
        fail(wireError('protocol', 'expected the main\'s hello, got a binary frame', { reason: 'no hello' }));
        return;
      }
      let frame;
      try {
        frame = unpackFrame(bytes, LARGE_INTS_BIGINT);
      } catch (e) {
        unexpected(`a frame that is not MessagePack: ${e.message}`);
        return;
      }
      onFrame(frame);
    }
    // A chunk of a message longer than our max_frame (its first byte is 0, which starts no frame).
    function onChunk(bytes) {
      if (state === 'handshake') {
        fail(wireError('protocol', 'expected the main\'s hello, got a chunk frame', { reason: 'no hello' }));
        return;
      }
      const taken = assembler.take(bytes);
      if (taken === null) return;
      if (taken.fault !== undefined) {
        // The stream cannot be trusted any more: every call fails instead of waiting forever for
        // a reply that was in the broken message.
        const message = `the main sent ${taken.fault}`;
        try { socket.send(packFrame({ t: 'goodbye', reason: message }, 0)); } catch (_) { /* closing anyway */ }
        fail(taken.tooLarge
          ? wireError('too_large', message, taken.tooLarge)
          : wireError('protocol', `protocol error: ${message}`, { reason: message }));
        return;
      }
      onPacked(taken.message);
    }

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

export { IpcAppError, IpcFrameworkError, IpcStream, IpcPort };
