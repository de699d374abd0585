{{HEADER}}//
// Electron main-process bridge: forwards the declared channels of the generated preload to the
// Rust main over the wire protocol (docs/PROTOCOL.md: JSON codec, frames with a 4-byte big-endian
// length prefix), over a child process's stdio or any duplex stream. It connects as a bridge
// (hello role "bridge"): the Rust main accepts it with `Main::accept_bridge` and sees each window
// as a renderer of its own.
//
//   const { createBridge } = require('./bridge.js');
//   const dispose = createBridge({
//     ipcMain, webContents,                       // from require('electron')
//     command: '/path/to/rust-main', args: [],    // or transport: aDuplexStream
//     allowedOrigins: ['app://todos'],            // or (origin, url) => boolean
//   });
//   await dispose.ready;                          // the hello handshake is done
//   dispose();                                    // removes every handler, closes the connection
//
// Only the declared channels get handlers. Each call's sender frame is checked synchronously
// against `allowedOrigins` (a refused invoke resolves with code "forbidden"); the caller's
// identity travels in each invoke and send frame as `"sender": {"id", "url", "origin"}`, and a
// `{"t":"detach","sender":<id>}` frame tells the main when a window is destroyed. Events from the
// Rust main go to the window named by the event frame's optional `"to"` (a webContents id, or an
// array of them), or to every window the bridge has seen.
//
{{PROTOCOL}}
'use strict';

const childProcess = require('child_process');

const CONTRACTS = {{CONTRACTS}};
const INVOKE_CHANNELS = {{INVOKES}};
const SEND_CHANNELS = {{SENDS}};
const EVENT_CHANNELS = {{EVENTS}};
const CANCEL_CHANNEL = {{CANCEL_JS}};
const PROTOCOL_VERSION = 1;
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;
const FRAMEWORK_CODES = ['no_handler', 'bad_arguments', 'bad_reply', 'cancelled', 'timeout',
  'disconnected', 'handler_panicked', 'too_large', 'too_many_in_flight', 'forbidden',
  'version_mismatch', 'protocol', 'encode'];

function wireError(code, message, fields) {
  return Object.assign({ code, message }, fields);
}

function isCount(value) {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

// The origin of a frame: WebFrameMain#origin when Electron gives one, else derived from its URL
// (`file://` for files, `scheme://host` for custom schemes).
function originOf(frame) {
  if (typeof frame.origin === 'string' && frame.origin !== '' && frame.origin !== 'null') {
    return frame.origin;
  }
  try {
    const url = new URL(String(frame.url));
    if (url.protocol === 'file:') return 'file://';
    return url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`;
  } catch (_) {
    return 'null';
  }
}

function originPolicy(allowed) {
  if (typeof allowed === 'function') return (origin, url) => allowed(origin, url) === true;
  if (Array.isArray(allowed) && allowed.every((o) => typeof o === 'string')) {
    const set = new Set(allowed);
    return (origin) => set.has('*') || set.has(origin);
  }
  throw new TypeError('createBridge: allowedOrigins must be an array of origins (["app://todos"], "*" for any) or a function (origin, url) => boolean');
}

/**
 * Registers the contract's channels on `ipcMain` and connects them to the Rust main.
 * Returns a disposer (a function) that removes every handler it registered and closes the
 * connection; it also has `ready` (a promise of the main's hello), `closed` (a promise of the
 * reason the connection ended) and `child` (the spawned process, if any).
 */
function createBridge(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('createBridge: options are required');
  const { ipcMain } = options;
  if (!ipcMain || typeof ipcMain.handle !== 'function' || typeof ipcMain.on !== 'function') {
    throw new TypeError('createBridge: options.ipcMain must be Electron\'s ipcMain');
  }
  const allow = originPolicy(options.allowedOrigins);
  const webContentsModule = options.webContents;
  const label = typeof options.label === 'string' ? options.label : 'electron-bridge';
  const maxFrame = isCount(options.maxFrame) && options.maxFrame > 0 ? options.maxFrame : DEFAULT_MAX_FRAME;
  const handshakeTimeoutMs = isCount(options.handshakeTimeoutMs) ? options.handshakeTimeoutMs : 10000;
  const report = typeof options.onError === 'function'
    ? options.onError
    : (error) => console.error('[ipc bridge]', error.message);

  let child = null;
  let readable;
  let writable;
  if (options.transport) {
    const t = options.transport;
    readable = t.readable && typeof t.readable.on === 'function' ? t.readable : t;
    writable = t.writable && typeof t.writable.write === 'function' ? t.writable : t;
    if (typeof readable.on !== 'function' || typeof writable.write !== 'function') {
      throw new TypeError('createBridge: options.transport must be a duplex stream or { readable, writable }');
    }
  } else if (typeof options.command === 'string') {
    child = childProcess.spawn(options.command, Array.isArray(options.args) ? options.args : [], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    readable = child.stdout;
    writable = child.stdin;
  } else {
    throw new TypeError('createBridge: give options.command (the Rust main to spawn) or options.transport');
  }

  let state = 'handshake'; // then 'open', then 'closed'
  let handshakeTimer;
  let closedError = null;
  let peerMaxFrame = DEFAULT_MAX_FRAME;
  let nextWireId = 0;
  const waiting = []; // frame bodies written before the handshake completed
  const pending = new Map(); // wire id -> { resolve, key, channel, webContentsId }
  const byCall = new Map(); // "<webContents id>:<call id>" -> wire id
  const seen = new Map(); // webContents id -> webContents
  const watched = []; // [webContents, 'destroyed' listener]
  const registered = []; // [channel, listener] on ipcMain
  const handled = []; // invoke channels with a handler

  let settleReady;
  let failReady;
  const ready = new Promise((resolve, reject) => { settleReady = resolve; failReady = reject; });
  ready.catch(() => {});
  let settleClosed;
  const closed = new Promise((resolve) => { settleClosed = resolve; });

  function settle(id, envelope) {
    const call = pending.get(id);
    if (call === undefined) return;
    pending.delete(id);
    byCall.delete(call.key);
    call.resolve(envelope);
  }

  function close(error) {
    if (state === 'closed') return;
    state = 'closed';
    closedError = error;
    clearTimeout(handshakeTimer);
    failReady(Object.assign(new Error(error.message), { code: error.code, error }));
    for (const id of Array.from(pending.keys())) settle(id, { error });
    waiting.length = 0;
    settleClosed(error);
  }

  function encode(frame) {
    let text;
    try {
      text = JSON.stringify(frame);
    } catch (e) {
      return { error: wireError('encode', `${frame.ch}: the arguments cannot be encoded as JSON: ${e.message}`, { reason: e.message }) };
    }
    const body = Buffer.from(text, 'utf8');
    if (body.length > peerMaxFrame) {
      return { error: wireError('too_large', `${frame.ch}: a frame of ${body.length} bytes is above the main's limit of ${peerMaxFrame}`, { size: body.length, limit: peerMaxFrame }) };
    }
    return { body };
  }

  function writeBody(body) {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    try {
      writable.write(Buffer.concat([header, body]));
    } catch (e) {
      close(wireError('disconnected', `the connection to the Rust main failed: ${e.message}`, { reason: e.message }));
    }
  }

  // Encodes and sends (or queues during the handshake); returns a wire error or null.
  function transmit(frame) {
    if (state === 'closed') return closedError;
    const encoded = encode(frame);
    if (encoded.error) return encoded.error;
    if (state === 'handshake') waiting.push(encoded.body);
    else writeBody(encoded.body);
    return null;
  }

  function identify(event, channel) {
    let frame = null;
    try { frame = event.senderFrame; } catch (_) { frame = null; }
    if (!frame) {
      return { error: wireError('forbidden', `${channel}: the sending frame is gone`, { channel, reason: 'the sending frame is gone' }) };
    }
    const url = String(frame.url);
    const origin = originOf(frame);
    if (!allow(origin, url)) {
      const reason = `origin ${origin} is not allowed`;
      return { error: wireError('forbidden', `${channel}: ${reason}`, { channel, reason }) };
    }
    const contents = event.sender;
    const id = contents && typeof contents.id === 'number' ? contents.id : -1;
    if (contents) remember(contents);
    return { sender: { id, url, origin } };
  }

  function remember(contents) {
    if (typeof contents.id !== 'number' || seen.has(contents.id)) return;
    seen.set(contents.id, contents);
    if (typeof contents.once === 'function') {
      const gone = () => {
        seen.delete(contents.id);
        // Calls of a destroyed window are cancelled so their handlers stop, and the main is
        // told the window is gone (`detach`), so it can forget what it kept for it.
        for (const [id, call] of Array.from(pending)) {
          if (call.webContentsId === contents.id) {
            transmit({ t: 'cancel', id });
            settle(id, { error: wireError('cancelled', `${call.channel}: the window was destroyed`, { channel: call.channel }) });
          }
        }
        transmit({ t: 'detach', sender: contents.id });
      };
      contents.once('destroyed', gone);
      watched.push([contents, gone]);
    }
  }

  // Call ids are unique per frame of a window (the preload numbers its own calls).
  function callKey(event, callId) {
    return `${event.sender ? event.sender.id : -1}:${event.processId}:${event.frameId}:${callId}`;
  }

  function onInvoke(channel) {
    return (event, callId, timeoutMs, ...args) => {
      const who = identify(event, channel);
      if (who.error) return { error: who.error };
      if (!isCount(callId) || callId === 0) {
        return { error: wireError('protocol', `${channel}: the call id must be a positive integer`, { reason: 'bad call id' }) };
      }
      if (timeoutMs !== null && timeoutMs !== undefined && !isCount(timeoutMs)) {
        return { error: wireError('protocol', `${channel}: timeoutMs must be a non-negative integer or null`, { reason: 'bad timeout' }) };
      }
      if (state === 'closed') return { error: closedError };
      const key = callKey(event, callId);
      const previous = byCall.get(key);
      if (previous !== undefined) {
        // The frame reloaded and numbers its calls from 1 again: its old call is abandoned.
        transmit({ t: 'cancel', id: previous });
        settle(previous, { error: wireError('cancelled', `${channel}: replaced by a new call with the same id (the page reloaded)`, { channel }) });
      }
      const id = ++nextWireId;
      const frame = { t: 'invoke', id, ch: channel, args };
      if (isCount(timeoutMs)) frame.timeout_ms = timeoutMs;
      frame.sender = who.sender;
      return new Promise((resolve) => {
        pending.set(id, { resolve, key, channel, webContentsId: who.sender.id });
        byCall.set(key, id);
        const problem = transmit(frame);
        if (problem !== null) settle(id, { error: problem });
      });
    };
  }

  function onSend(channel) {
    return (event, ...args) => {
      const who = identify(event, channel);
      if (who.error) {
        report(Object.assign(new Error(who.error.message), { code: who.error.code }));
        return;
      }
      const problem = transmit({ t: 'send', ch: channel, args, sender: who.sender });
      if (problem !== null) report(Object.assign(new Error(problem.message), { code: problem.code }));
    };
  }

  function onCancel(event, callId) {
    if (!event || !isCount(callId)) return;
    const id = byCall.get(callKey(event, callId));
    if (id === undefined) return;
    const call = pending.get(id);
    transmit({ t: 'cancel', id });
    settle(id, { error: wireError('cancelled', `${call.channel}: cancelled by the caller`, { channel: call.channel }) });
  }

  function deliver(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !Array.isArray(frame.args)) {
      report(new Error(`ignored an event on undeclared channel ${String(frame.ch)}`));
      return;
    }
    let targets;
    if (frame.to === undefined || frame.to === null) {
      targets = Array.from(seen.values());
    } else {
      const ids = Array.isArray(frame.to) ? frame.to : [frame.to];
      targets = [];
      for (const id of ids) {
        let contents = seen.get(id);
        if (contents === undefined && webContentsModule && typeof webContentsModule.fromId === 'function') {
          contents = webContentsModule.fromId(id);
        }
        if (contents) targets.push(contents);
      }
    }
    for (const contents of targets) {
      if (typeof contents.isDestroyed === 'function' && contents.isDestroyed()) continue;
      contents.send(frame.ch, ...frame.args);
    }
  }

  function onHello(frame) {
    if (frame.t === 'error') {
      close(Object.assign(wireError('protocol', 'the Rust main refused the connection'), frame.error));
      return;
    }
    if (frame.t !== 'hello' || frame.role !== 'main') {
      close(wireError('protocol', `expected the main's hello, got a \`${String(frame.t)}\` frame`, { reason: 'no hello' }));
      return;
    }
    if (frame.protocol !== PROTOCOL_VERSION) {
      close(wireError('version_mismatch', `protocol ${PROTOCOL_VERSION} (bridge) differs from protocol ${frame.protocol} (main)`, { ours: `protocol ${PROTOCOL_VERSION}`, theirs: `protocol ${frame.protocol}` }));
      return;
    }
    const theirs = frame.contracts !== null && typeof frame.contracts === 'object' ? frame.contracts : {};
    for (const ns of Object.keys(CONTRACTS)) {
      if (typeof theirs[ns] === 'string' && theirs[ns] !== CONTRACTS[ns]) {
        close(wireError('version_mismatch', `contract \`${ns}\` differs: the bindings were generated from ${CONTRACTS[ns]}, the Rust main has ${theirs[ns]}; regenerate them`, { ours: `contract \`${ns}\` ${CONTRACTS[ns]}`, theirs: `contract \`${ns}\` ${theirs[ns]}` }));
        return;
      }
    }
    if (isCount(frame.max_frame) && frame.max_frame > 0) peerMaxFrame = frame.max_frame;
    state = 'open';
    clearTimeout(handshakeTimer);
    for (const body of waiting.splice(0)) writeBody(body);
    settleReady({ renderer: frame.renderer, contracts: theirs });
  }

  function onFrame(body) {
    let frame;
    try {
      frame = JSON.parse(body.toString('utf8'));
    } catch (e) {
      report(new Error(`the Rust main sent a frame that is not JSON: ${e.message}`));
      return;
    }
    if (frame === null || typeof frame !== 'object') return;
    if (state === 'handshake') {
      onHello(frame);
      return;
    }
    switch (frame.t) {
      case 'reply': {
        if (Object.prototype.hasOwnProperty.call(frame, 'ok')) settle(frame.id, { ok: frame.ok });
        else if (Object.prototype.hasOwnProperty.call(frame, 'app')) settle(frame.id, { app: frame.app });
        else settle(frame.id, { error: normalize(frame.error) });
        break;
      }
      case 'event':
        deliver(frame);
        break;
      case 'error':
        if (isCount(frame.id)) settle(frame.id, { error: normalize(frame.error) });
        else report(Object.assign(new Error(`the Rust main reported: ${normalize(frame.error).message}`), { code: normalize(frame.error).code }));
        break;
      case 'goodbye':
        close(wireError('disconnected', `the Rust main said goodbye: ${String(frame.reason)}`, { reason: String(frame.reason) }));
        end();
        break;
      default:
        break; // Unknown frame types are ignored, as the protocol asks.
    }
  }

  function normalize(error) {
    const e = error !== null && typeof error === 'object' ? error : {};
    const code = FRAMEWORK_CODES.indexOf(e.code) >= 0 ? e.code : 'protocol';
    return Object.assign({}, e, { code, message: typeof e.message === 'string' ? e.message : code });
  }

  let buffered = Buffer.alloc(0);
  readable.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (state !== 'closed' && buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (length > maxFrame) {
        close(wireError('too_large', `the Rust main sent a frame of ${length} bytes, above the limit of ${maxFrame}`, { size: length, limit: maxFrame }));
        end();
        return;
      }
      if (buffered.length < 4 + length) break;
      const body = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      onFrame(body);
    }
  });
  const lost = (why) => () => close(wireError('disconnected', `the connection to the Rust main ended (${why})`, { reason: why }));
  readable.on('end', lost('end of stream'));
  readable.on('close', lost('stream closed'));
  readable.on('error', (e) => close(wireError('disconnected', `the connection to the Rust main failed: ${e.message}`, { reason: e.message })));
  if (writable !== readable && typeof writable.on === 'function') {
    writable.on('error', (e) => close(wireError('disconnected', `the connection to the Rust main failed: ${e.message}`, { reason: e.message })));
  }
  if (child !== null) {
    child.on('error', (e) => close(wireError('disconnected', `could not start the Rust main: ${e.message}`, { reason: e.message })));
    child.on('exit', (code, signal) => close(wireError('disconnected', `the Rust main exited (${signal || `code ${code}`})`, { reason: 'exited' })));
  }
  handshakeTimer = setTimeout(() => {
    close(wireError('protocol', `no hello from the Rust main within ${handshakeTimeoutMs} ms`, { reason: 'handshake timeout' }));
    end();
  }, handshakeTimeoutMs);
  if (typeof handshakeTimer.unref === 'function') handshakeTimer.unref();

  function end() {
    try {
      if (typeof writable.end === 'function') writable.end();
    } catch (_) { /* already closed */ }
  }

  // Register every handler, or none.
  try {
    for (const channel of INVOKE_CHANNELS) {
      ipcMain.handle(channel, onInvoke(channel));
      handled.push(channel);
    }
    for (const channel of SEND_CHANNELS) {
      const listener = onSend(channel);
      ipcMain.on(channel, listener);
      registered.push([channel, listener]);
    }
    ipcMain.on(CANCEL_CHANNEL, onCancel);
    registered.push([CANCEL_CHANNEL, onCancel]);
  } catch (e) {
    for (const channel of handled) ipcMain.removeHandler(channel);
    for (const [channel, listener] of registered) ipcMain.removeListener(channel, listener);
    close(wireError('disconnected', `the bridge could not register its handlers: ${e.message}`, { reason: e.message }));
    end();
    throw e;
  }

  writeBody(Buffer.from(JSON.stringify({
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    role: 'bridge',
    codec: 'json',
    contracts: CONTRACTS,
    label,
    max_frame: maxFrame,
  }), 'utf8'));

  let disposed = false;
  function dispose() {
    if (disposed) return;
    disposed = true;
    for (const channel of handled) ipcMain.removeHandler(channel);
    for (const [channel, listener] of registered) ipcMain.removeListener(channel, listener);
    for (const [contents, gone] of watched) {
      if (typeof contents.removeListener === 'function') contents.removeListener('destroyed', gone);
    }
    if (state === 'open') writeBody(Buffer.from(JSON.stringify({ t: 'goodbye', reason: 'bridge disposed' }), 'utf8'));
    close(wireError('disconnected', 'the bridge was disposed', { reason: 'disposed' }));
    end();
  }
  dispose.ready = ready;
  dispose.closed = closed;
  dispose.child = child;
  return dispose;
}

module.exports = { createBridge, CONTRACTS, INVOKE_CHANNELS, SEND_CHANNELS, EVENT_CHANNELS, CANCEL_CHANNEL };
