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
// `{"t":"detach","sender":<id>}` frame tells the main when a window is destroyed. Events and lag
// notices from the Rust main go to the window named by the frame's optional `"to"` (a webContents
// id, or an array of them), or to every window the bridge has seen, and only while that window's
// main frame is still allowed (a window that navigated elsewhere gets nothing; reported once); a
// `goodbye` with `"to"` disconnects that window only.
//
// allowedOrigins entries: an origin ("app://todos", "https://app.example"); "*" for any origin
// but an opaque one; "null" for opaque origins (sandboxed iframes, data: URLs: dangerous, since
// any such frame qualifies); a folder ("file:///opt/app/", ending with '/') or a file
// ("file:///opt/app/index.html") for pages loaded from disk. A bare "file://" is refused: it
// would admit every local file.
//
// More options: label (default "electron-bridge"), webContents (to find windows by id), onError,
// handshakeTimeoutMs (10000), maxFrame (the largest frame accepted from the main, 4 MiB),
// maxMessage (the largest message accepted from the main in chunks, 64 MiB), maxInFlightPerWindow
// (calls of one window waiting for their reply, 256; past it that window's calls fail at once
// with "too_many_in_flight"), maxQueuedBytes (how much may wait for a main that does not read,
// 64 MiB) and maxQueuedBytesPerWindow (one window's share of it, a quarter by default; past
// either, calls fail at once with "too_many_in_flight"). The bridge answers the main's pings and
// answers frames it does not take with a "protocol" error (docs/PROTOCOL.md section 8).
//
{{PROTOCOL}}
'use strict';

const childProcess = require('child_process');

const CONTRACTS = {{CONTRACTS}};
const INVOKE_CHANNELS = {{INVOKES}};
const SEND_CHANNELS = {{SENDS}};
const EVENT_CHANNELS = {{EVENTS}};
const CANCEL_CHANNEL = {{CANCEL_JS}};
const LAG_CHANNEL = {{LAG_JS}};
const PROTOCOL_VERSION = 1;
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT_PER_WINDOW = 256;
const BRIDGE_OWN = -1; // the owner of the bridge's own frames (cancel, detach, pong, errors)
const FRAMEWORK_CODES = ['no_handler', 'bad_arguments', 'bad_reply', 'cancelled', 'timeout',
  'disconnected', 'handler_panicked', 'too_large', 'too_many_in_flight', 'too_many_connections', 'forbidden',
  'version_mismatch', 'protocol', 'encode'];

{{CHUNKS}}

function wireError(code, message, fields) {
  return Object.assign({ code, message }, fields);
}

function isCount(value) {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

// The origin of a frame as Electron reports it (WebFrameMain#origin). An opaque origin ("null":
// a sandboxed iframe, a data: URL, ...) stays "null" and is never taken from the URL, which such
// a frame does not own; so does anything else that is not an origin. Only when Electron reports
// no origin at all (before WebFrameMain#origin existed) is it derived from the URL: "file://" for
// files, scheme://host for http(s) and custom schemes ("app://todos"), "null" for URLs without a
// host (data:, about:, javascript:).
function originOf(frame) {
  const reported = frame.origin;
  if (reported !== undefined && reported !== null) {
    return typeof reported === 'string' && reported !== '' ? reported : 'null';
  }
  let url;
  try {
    url = new URL(String(frame.url));
  } catch (_) {
    return 'null';
  }
  if (url.protocol === 'file:') return 'file://';
  if (url.origin !== 'null') return url.origin;
  if (url.host !== '') return `${url.protocol}//${url.host}`;
  return 'null';
}

// The path a file: URL names, decoded, or null when it names no plain file: an encoded separator
// or NUL, a malformed escape, or a "." or ".." segment left after the URL parser's normalization.
function filePath(url) {
  if (/%(2f|5c|00)/i.test(url.pathname)) return null;
  let path;
  try {
    path = decodeURIComponent(url.pathname);
  } catch (_) {
    return null;
  }
  if (!path.startsWith('/') || path.includes('\\') || path.includes('\0')) return null;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return null;
  return path;
}

const FILE_ENTRY_HELP = 'name the app\'s folder ("file:///opt/app/", ending with \'/\') or its page ("file:///opt/app/index.html")';

// An allowlist entry for pages loaded from disk: a folder (ending with '/', admitting every file
// under it) or one file. Matched against the frame's URL path (query and fragment play no part).
function fileEntry(entry) {
  let url;
  try {
    url = new URL(entry);
  } catch (_) {
    throw new TypeError(`createBridge: allowedOrigins entry ${JSON.stringify(entry)} is not a file URL; ${FILE_ENTRY_HELP}`);
  }
  if (entry.includes('?') || entry.includes('#')) {
    throw new TypeError(`createBridge: allowedOrigins entry ${JSON.stringify(entry)} has a query or fragment, which play no part in which file a frame shows; ${FILE_ENTRY_HELP}`);
  }
  const path = filePath(url);
  if (path === null) {
    throw new TypeError(`createBridge: allowedOrigins entry ${JSON.stringify(entry)} names no plain path; ${FILE_ENTRY_HELP}`);
  }
  if (path === '/') {
    throw new TypeError(`createBridge: allowedOrigins entry ${JSON.stringify(entry)} would admit every local file (any page saved to disk, any downloaded file); ${FILE_ENTRY_HELP}`);
  }
  const host = url.host;
  const folder = path.endsWith('/');
  return (frameUrl) => {
    let parsed;
    try {
      parsed = new URL(frameUrl);
    } catch (_) {
      return false;
    }
    if (parsed.protocol !== 'file:' || parsed.host !== host) return false;
    const framePath = filePath(parsed);
    if (framePath === null) return false;
    return folder ? framePath.startsWith(path) : framePath === path;
  };
}

// (origin, url) => boolean from allowedOrigins. A policy function sees every origin, "null"
// included, and a function that throws refuses.
function originPolicy(allowed) {
  if (typeof allowed === 'function') {
    return (origin, url) => {
      try {
        return allowed(origin, url) === true;
      } catch (_) {
        return false;
      }
    };
  }
  if (!Array.isArray(allowed) || !allowed.every((o) => typeof o === 'string')) {
    throw new TypeError('createBridge: allowedOrigins must be an array of origins (["app://todos"], "*" for any) or a function (origin, url) => boolean');
  }
  const origins = new Set();
  const files = [];
  let any = false;
  let opaque = false;
  for (const entry of allowed) {
    if (entry === '*') any = true;
    else if (entry === 'null') opaque = true;
    else if (/^file:/i.test(entry)) {
      if (/^file:\/*$/i.test(entry)) {
        throw new TypeError(`createBridge: allowedOrigins entry ${JSON.stringify(entry)} would admit every local file (any page saved to disk, any downloaded file); ${FILE_ENTRY_HELP}`);
      }
      files.push(fileEntry(entry));
    } else origins.add(entry);
  }
  return (origin, url) => {
    if (origin === 'null') return opaque;
    if (any) return true;
    if (origin === 'file://') return files.some((admits) => admits(url));
    return origins.has(origin);
  };
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
  const maxMessage = Math.min(isCount(options.maxMessage) && options.maxMessage > 0 ? options.maxMessage : DEFAULT_MAX_MESSAGE, MAX_CHUNKED_MESSAGE);
  const maxQueuedBytes = isCount(options.maxQueuedBytes) ? options.maxQueuedBytes : DEFAULT_MAX_QUEUED_BYTES;
  const maxQueuedBytesPerWindow = isCount(options.maxQueuedBytesPerWindow)
    ? Math.min(options.maxQueuedBytesPerWindow, maxQueuedBytes)
    : Math.floor(maxQueuedBytes / 4);
  const maxInFlightPerWindow = isCount(options.maxInFlightPerWindow) && options.maxInFlightPerWindow > 0
    ? options.maxInFlightPerWindow
    : DEFAULT_MAX_IN_FLIGHT_PER_WINDOW;
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
  let peerMaxMessage = DEFAULT_MAX_FRAME;
  let nextWireId = 0;
  let nextChunkId = 0;
  // Before the handshake main's limits are unknown, so frames wait as bodies: { body, what,
  // refuse, owner } (refuse(error) fails the call or reports the send if the body turns out too
  // large; owner is the window's webContents id, or BRIDGE_OWN).
  const waiting = [];
  // Frames waiting for 'drain', { bytes (length prefix included), owner }; `queueHead` is the
  // next one to write.
  let queue = [];
  let queueHead = 0;
  let queuedBytes = 0; // in `waiting` and `queue`
  const queuedByWindow = new Map(); // webContents id -> its bytes in `waiting` and `queue`
  const inFlightByWindow = new Map(); // webContents id -> its calls in `pending`
  const refusedWindows = new Map(); // webContents id -> why events are withheld (reported once)
  let blocked = false; // write() returned false: nothing more until 'drain'
  const canWait = typeof writable.on === 'function';
  const pending = new Map(); // wire id -> { resolve, key, channel, webContentsId }
  const byCall = new Map(); // "<webContents id>:<call id>" -> wire id
  const seen = new Map(); // webContents id -> webContents
  const disconnected = new Map(); // webContents id -> reason, for windows main said goodbye to
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
    const left = (inFlightByWindow.get(call.webContentsId) || 1) - 1;
    if (left > 0) inFlightByWindow.set(call.webContentsId, left);
    else inFlightByWindow.delete(call.webContentsId);
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
    queue = [];
    queueHead = 0;
    queuedBytes = 0;
    queuedByWindow.clear();
    settleClosed(error);
  }

  function encode(frame) {
    let text;
    try {
      text = JSON.stringify(frame);
    } catch (e) {
      return { error: wireError('encode', `${frame.ch}: the arguments cannot be encoded as JSON: ${e.message}`, { reason: e.message }) };
    }
    return { body: Buffer.from(text, 'utf8') };
  }

  function withLength(body) {
    const framed = Buffer.allocUnsafe(4 + body.length);
    framed.writeUInt32BE(body.length, 0);
    body.copy(framed, 4);
    return framed;
  }

  // The frames that carry one message body to main: one frame, or chunks when it is longer than
  // main's max_frame and main accepts chunked messages that long.
  function framesOf(body, what) {
    if (body.length <= peerMaxFrame) return { frames: [withLength(body)] };
    const limit = peerMaxMessage > peerMaxFrame && peerMaxFrame > CHUNK_HEADER ? peerMaxMessage : peerMaxFrame;
    if (body.length > limit) {
      return { error: wireError('too_large', `${what}: a message of ${body.length} bytes is above the Rust main's limit of ${limit}`, { size: body.length, limit }) };
    }
    nextChunkId = (nextChunkId + 1) >>> 0;
    return { frames: chunkFrames(body, nextChunkId, peerMaxFrame, 4) };
  }

  function write(bytes) {
    try {
      if (writable.write(bytes) === false && canWait) blocked = true;
    } catch (e) {
      close(wireError('disconnected', `the connection to the Rust main failed: ${e.message}`, { reason: e.message }));
    }
  }

  function isBacked() {
    return blocked || queueHead < queue.length;
  }

  // Bytes of `owner` that wait (in `waiting` or `queue`), counted for the bound and the shares.
  function account(owner, size) {
    queuedBytes += size;
    if (owner === BRIDGE_OWN) return;
    const total = (queuedByWindow.get(owner) || 0) + size;
    if (total > 0) queuedByWindow.set(owner, total);
    else queuedByWindow.delete(owner);
  }

  // Frames leave in the order they were put, whether written at once or queued behind a stream
  // that asked to wait.
  function put(bytes, owner) {
    if (isBacked()) {
      queue.push({ bytes, owner });
      account(owner, bytes.length);
    } else {
      write(bytes);
    }
  }

  function onDrain() {
    blocked = false;
    while (!blocked && state !== 'closed' && queueHead < queue.length) {
      const item = queue[queueHead];
      queue[queueHead++] = undefined;
      account(item.owner, -item.bytes.length);
      write(item.bytes);
    }
    if (queueHead === queue.length) {
      queue = [];
      queueHead = 0;
    } else if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue = queue.slice(queueHead);
      queueHead = 0;
    }
  }

  // Why `size` more bytes of window `owner` may not wait, or null. A window may hold at most its
  // share of the queue, so one window that floods a main which stopped reading makes its own
  // calls fail, not the other windows'; the whole queue stays bounded by maxQueuedBytes.
  function noRoom(owner, size, what) {
    const mine = queuedByWindow.get(owner) || 0;
    if (mine + size > maxQueuedBytesPerWindow) {
      return wireError('too_many_in_flight', `${what}: this window already has ${mine} bytes waiting for the Rust main to read them (its share is ${maxQueuedBytesPerWindow} bytes); the main is not keeping up`, { limit: maxQueuedBytesPerWindow });
    }
    if (queuedBytes + size > maxQueuedBytes) {
      return wireError('too_many_in_flight', `${what}: ${queuedBytes} bytes already wait for the Rust main to read them (the limit is ${maxQueuedBytes}); it is not keeping up`, { limit: maxQueuedBytes });
    }
    return null;
  }

  // Sends an invoke or a send of a page (window `owner`), or answers why not (a wire error).
  // Refused at once when it would make more than the window's share or maxQueuedBytes wait:
  // Electron's main process must not buffer without limit for a Rust main that stopped reading.
  function submit(frame, refuse, owner) {
    if (state === 'closed') return closedError;
    const encoded = encode(frame);
    if (encoded.error) return encoded.error;
    const body = encoded.body;
    if (state === 'handshake') {
      const problem = noRoom(owner, 4 + body.length, frame.ch);
      if (problem !== null) return problem;
      waiting.push({ body, what: frame.ch, refuse, owner });
      account(owner, 4 + body.length);
      return null;
    }
    const framed = framesOf(body, frame.ch);
    if (framed.error) return framed.error;
    if (isBacked()) {
      let size = 0;
      for (const bytes of framed.frames) size += bytes.length;
      const problem = noRoom(owner, size, frame.ch);
      if (problem !== null) return problem;
    }
    for (const bytes of framed.frames) put(bytes, owner);
    return null;
  }

  // The bridge's own small frames (cancel, detach) are never refused: dropping one would leave a
  // handler running in the Rust main.
  function control(frame) {
    if (state === 'closed') return;
    const body = Buffer.from(JSON.stringify(frame), 'utf8');
    if (state === 'handshake') {
      waiting.push({ body, what: frame.t, refuse: null, owner: BRIDGE_OWN });
      account(BRIDGE_OWN, 4 + body.length);
    } else {
      put(withLength(body), BRIDGE_OWN);
    }
  }

  // Answers to the main's frames (pong, protocol errors): in order with everything else, but
  // dropped (and reported) rather than queued past maxQueuedBytes for a main that does not read.
  function answer(frame) {
    if (state !== 'open') return;
    const bytes = withLength(Buffer.from(JSON.stringify(frame), 'utf8'));
    if (isBacked() && queuedBytes + bytes.length > maxQueuedBytes) {
      report(new Error(`dropped a \`${frame.t}\` frame for the Rust main: ${queuedBytes} bytes already wait for it to read them`));
      return;
    }
    put(bytes, BRIDGE_OWN);
  }

  // A frame the bridge does not take: a reserved type, or one only the main receives. The main
  // is told (error `protocol` naming the type) and the connection goes on.
  function unexpected(reason) {
    report(Object.assign(new Error(`the Rust main sent a frame the bridge does not take (${reason}); answered with a protocol error`), { code: 'protocol' }));
    answer({ t: 'error', error: { code: 'protocol', message: `protocol error: ${reason}`, reason } });
  }

  // Last words before closing: written at once, ahead of frames still queued (they are dropped
  // with the connection, and their calls fail with it).
  function goodbye(reason) {
    if (state !== 'open') return;
    write(withLength(Buffer.from(JSON.stringify({ t: 'goodbye', reason }), 'utf8')));
  }

  function identify(event, channel) {
    let frame = null;
    try { frame = event.senderFrame; } catch (_) { frame = null; }
    if (!frame) {
      return { error: wireError('forbidden', `${channel}: the sending frame is gone`, { channel, reason: 'the sending frame is gone' }) };
    }
    let url;
    let origin;
    try {
      url = String(frame.url);
      origin = originOf(frame);
    } catch (_) {
      // A WebFrameMain whose frame was disposed throws on access.
      return { error: wireError('forbidden', `${channel}: the sending frame is gone`, { channel, reason: 'the sending frame is gone' }) };
    }
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
            control({ t: 'cancel', id });
            settle(id, { error: wireError('cancelled', `${call.channel}: the window was destroyed`, { channel: call.channel }) });
          }
        }
        control({ t: 'detach', sender: contents.id });
        disconnected.delete(contents.id);
        refusedWindows.delete(contents.id);
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
      const gone = windowGone(channel, who.sender.id);
      if (gone !== null) return { error: gone };
      const key = callKey(event, callId);
      const previous = byCall.get(key);
      if (previous !== undefined) {
        // The frame reloaded and numbers its calls from 1 again: its old call is abandoned.
        control({ t: 'cancel', id: previous });
        settle(previous, { error: wireError('cancelled', `${channel}: replaced by a new call with the same id (the page reloaded)`, { channel }) });
      }
      // Per window, so that one window's slow calls never make another window's calls fail.
      const inFlight = inFlightByWindow.get(who.sender.id) || 0;
      if (inFlight >= maxInFlightPerWindow) {
        return { error: wireError('too_many_in_flight', `${channel}: this window already has ${inFlight} calls waiting for their reply (the limit is ${maxInFlightPerWindow})`, { limit: maxInFlightPerWindow }) };
      }
      const id = ++nextWireId;
      const frame = { t: 'invoke', id, ch: channel, args };
      if (isCount(timeoutMs)) frame.timeout_ms = timeoutMs;
      frame.sender = who.sender;
      return new Promise((resolve) => {
        pending.set(id, { resolve, key, channel, webContentsId: who.sender.id });
        inFlightByWindow.set(who.sender.id, inFlight + 1);
        byCall.set(key, id);
        const problem = submit(frame, (error) => settle(id, { error }), who.sender.id);
        if (problem !== null) settle(id, { error: problem });
      });
    };
  }

  // Main disconnected this window (a goodbye with `to`): nothing of it is forwarded any more.
  function windowGone(channel, webContentsId) {
    if (!disconnected.has(webContentsId)) return null;
    const reason = disconnected.get(webContentsId);
    return wireError('disconnected', `${channel}: the Rust main disconnected this window: ${reason}`, { reason });
  }

  function disconnectWindows(to, reason) {
    const ids = Array.isArray(to) ? to : [to];
    for (const webContentsId of ids) {
      if (typeof webContentsId !== 'number') continue;
      disconnected.set(webContentsId, reason);
      for (const [id, call] of Array.from(pending)) {
        if (call.webContentsId === webContentsId) settle(id, { error: windowGone(call.channel, webContentsId) });
      }
    }
  }

  function onSend(channel) {
    return (event, ...args) => {
      const who = identify(event, channel);
      if (who.error) {
        report(Object.assign(new Error(who.error.message), { code: who.error.code }));
        return;
      }
      const refuse = (problem) => report(Object.assign(new Error(problem.message), { code: problem.code }));
      const gone = windowGone(channel, who.sender.id);
      if (gone !== null) {
        refuse(gone);
        return;
      }
      const problem = submit({ t: 'send', ch: channel, args, sender: who.sender }, refuse, who.sender.id);
      if (problem !== null) refuse(problem);
    };
  }

  function onCancel(event, callId) {
    if (!event || !isCount(callId)) return;
    const id = byCall.get(callKey(event, callId));
    if (id === undefined) return;
    const call = pending.get(id);
    control({ t: 'cancel', id });
    settle(id, { error: wireError('cancelled', `${call.channel}: cancelled by the caller`, { channel: call.channel }) });
  }

  // The windows a frame from main is for: those named by `to`, or every window seen so far.
  function targetsOf(frame) {
    let targets;
    if (frame.to === undefined || frame.to === null) {
      targets = Array.from(seen.values()).filter((contents) => !disconnected.has(contents.id));
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
    return targets.filter((contents) => !(typeof contents.isDestroyed === 'function' && contents.isDestroyed()));
  }

  // Whether a window may receive events now. webContents.send delivers to the window's current
  // main frame, which need not be the frame that called: a window that navigated to another
  // origin since is checked again, with the policy calls are checked with, before every event.
  // A refused window gets nothing, and is reported once (again only after it was allowed).
  function mayReceive(contents) {
    let why;
    try {
      const frame = contents.mainFrame;
      if (frame) {
        const origin = originOf(frame);
        if (allow(origin, String(frame.url))) {
          refusedWindows.delete(contents.id);
          return true;
        }
        why = `its main frame's origin ${origin} is not allowed`;
      } else {
        why = 'it has no main frame to check';
      }
    } catch (_) {
      why = 'its main frame is gone';
    }
    if (refusedWindows.get(contents.id) !== why) {
      // Windows found through webContents.fromId are never watched for 'destroyed': a bound.
      if (refusedWindows.size >= 4096) refusedWindows.clear();
      refusedWindows.set(contents.id, why);
      report(Object.assign(new Error(`events for window ${contents.id} are withheld: ${why}`), { code: 'forbidden' }));
    }
    return false;
  }

  function sendTo(contents, channel, args) {
    if (!mayReceive(contents)) return;
    try {
      contents.send(channel, ...args);
    } catch (e) {
      report(new Error(`could not send ${channel} to window ${contents.id}: ${e.message}`));
    }
  }

  function deliver(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !Array.isArray(frame.args)) {
      report(new Error(`ignored an event on undeclared channel ${String(frame.ch)}`));
      return;
    }
    for (const contents of targetsOf(frame)) sendTo(contents, frame.ch, frame.args);
  }

  function deliverLag(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !isCount(frame.missed)) {
      report(new Error(`ignored a malformed lag notice for channel ${String(frame.ch)}`));
      return;
    }
    for (const contents of targetsOf(frame)) sendTo(contents, LAG_CHANNEL, [frame.ch, frame.missed]);
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
    // Absent: main takes no chunked messages (framesOf then refuses what is above max_frame).
    peerMaxMessage = isCount(frame.max_message) ? Math.min(frame.max_message, MAX_CHUNKED_MESSAGE) : peerMaxFrame;
    state = 'open';
    clearTimeout(handshakeTimer);
    for (const item of waiting.splice(0)) {
      account(item.owner, -(4 + item.body.length));
      const framed = framesOf(item.body, item.what);
      if (framed.error) {
        if (item.refuse !== null) item.refuse(framed.error);
        continue;
      }
      for (const bytes of framed.frames) put(bytes, item.owner);
    }
    settleReady({ renderer: frame.renderer, contracts: theirs });
  }

  function onFrame(body) {
    let frame;
    try {
      frame = JSON.parse(decoder.decode(body));
    } catch (e) {
      if (state === 'handshake') report(new Error(`the Rust main sent a frame that is not JSON: ${e.message}`));
      else unexpected(`a frame that is not JSON: ${e.message}`);
      return;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      if (state === 'handshake') report(new Error('the Rust main sent a frame that is not a JSON object'));
      else unexpected('a frame that is not a JSON object');
      return;
    }
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
      case 'lag':
        deliverLag(frame);
        break;
      case 'error':
        if (isCount(frame.id)) settle(frame.id, { error: normalize(frame.error) });
        else report(Object.assign(new Error(`the Rust main reported: ${normalize(frame.error).message}`), { code: normalize(frame.error).code }));
        break;
      case 'goodbye':
        if (frame.to !== undefined && frame.to !== null) {
          disconnectWindows(frame.to, String(frame.reason));
          break;
        }
        close(wireError('disconnected', `the Rust main said goodbye: ${String(frame.reason)}`, { reason: String(frame.reason) }));
        end();
        break;
      case 'ping':
        // Liveness (docs/PROTOCOL.md section 7): answered at once; a peer that does not answer is cut.
        if (isCount(frame.id)) answer({ t: 'pong', id: frame.id });
        else unexpected('a `ping` without a valid `id`');
        break;
      case 'pong':
        break; // The bridge sends no pings; a stray pong is harmless.
      case 'hello':
      case 'invoke':
      case 'cancel':
      case 'send':
      case 'detach':
        unexpected(`unexpected frame type \`${frame.t}\` (a bridge does not receive it)`);
        break;
      default:
        // Reserved for later versions (docs/PROTOCOL.md section 8): answered, the connection goes on.
        unexpected(typeof frame.t === 'string' ? `unknown frame type \`${frame.t}\`` : 'a frame without a type');
        break;
    }
  }

  function normalize(error) {
    const e = error !== null && typeof error === 'object' ? error : {};
    const code = FRAMEWORK_CODES.indexOf(e.code) >= 0 ? e.code : 'protocol';
    return Object.assign({}, e, { code, message: typeof e.message === 'string' ? e.message : code });
  }

  const decoder = new TextDecoder();
  const assembler = chunkAssembler(maxMessage);

  // A chunk of a message longer than our max_frame (its first byte is 0, which starts no JSON).
  function onChunk(body) {
    if (state === 'handshake') {
      close(wireError('protocol', 'expected the main\'s hello, got a chunk frame', { reason: 'no hello' }));
      end();
      return;
    }
    const taken = assembler.take(body);
    if (taken === null) return;
    if (taken.fault !== undefined) {
      // The stream cannot be trusted any more: every call fails instead of waiting forever for a
      // reply that was in the broken message.
      const message = `the Rust main sent ${taken.fault}`;
      goodbye(message);
      close(taken.tooLarge
        ? wireError('too_large', message, taken.tooLarge)
        : wireError('protocol', `protocol error: ${message}`, { reason: message }));
      end();
      return;
    }
    onFrame(taken.message);
  }

  // Bytes read but not handled yet, in the pieces they came in: a large frame is copied once,
  // when it is complete, rather than once per piece.
  let pieces = [];
  let piecesLength = 0;
  let needed = 4;
  readable.on('data', (chunk) => {
    if (state === 'closed') return;
    pieces.push(chunk);
    piecesLength += chunk.length;
    if (piecesLength < needed) return;
    let buffered = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, piecesLength);
    needed = 4;
    while (state !== 'closed' && buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (length > maxFrame) {
        close(wireError('too_large', `the Rust main sent a frame of ${length} bytes, above the limit of ${maxFrame}`, { size: length, limit: maxFrame }));
        end();
        return;
      }
      if (buffered.length < 4 + length) {
        needed = 4 + length;
        break;
      }
      const body = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      if (body.length > 0 && body[0] === 0) onChunk(body);
      else onFrame(body);
    }
    pieces = buffered.length > 0 ? [buffered] : [];
    piecesLength = buffered.length;
  });
  const lost = (why) => () => close(wireError('disconnected', `the connection to the Rust main ended (${why})`, { reason: why }));
  readable.on('end', lost('end of stream'));
  readable.on('close', lost('stream closed'));
  readable.on('error', (e) => close(wireError('disconnected', `the connection to the Rust main failed: ${e.message}`, { reason: e.message })));
  if (canWait) writable.on('drain', onDrain);
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

  write(withLength(Buffer.from(JSON.stringify({
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    role: 'bridge',
    codec: 'json',
    contracts: CONTRACTS,
    label,
    max_frame: maxFrame,
    max_message: maxMessage,
  }), 'utf8')));

  let disposed = false;
  function dispose() {
    if (disposed) return;
    disposed = true;
    for (const channel of handled) ipcMain.removeHandler(channel);
    for (const [channel, listener] of registered) ipcMain.removeListener(channel, listener);
    for (const [contents, gone] of watched) {
      if (typeof contents.removeListener === 'function') contents.removeListener('destroyed', gone);
    }
    goodbye('bridge disposed');
    close(wireError('disconnected', 'the bridge was disposed', { reason: 'disposed' }));
    end();
  }
  dispose.ready = ready;
  dispose.closed = closed;
  dispose.child = child;
  return dispose;
}

module.exports = { createBridge, CONTRACTS, INVOKE_CHANNELS, SEND_CHANNELS, EVENT_CHANNELS, CANCEL_CHANNEL, LAG_CHANNEL };
