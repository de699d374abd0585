{{HEADER}}//
// Electron main-process bridge: forwards the declared channels of the generated preload to the
// Rust main over the wire protocol (docs/PROTOCOL.md: the msgpack codec, frames with a 4-byte
// big-endian length prefix; the handshake in JSON), over a child process's stdio or any duplex stream. It connects as a bridge
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
// identity travels in each invoke and send frame as `"sender": {"id", "url", "origin",
// "main_frame"}`, and a `{"t":"detach","sender":<id>}` frame tells the main when a window is destroyed. Events and lag
// notices from the Rust main go to the window named by the frame's optional `"to"` (a webContents
// id, or an array of them), or to every window the bridge has seen, and only while that window's
// main frame is still allowed (a window that navigated elsewhere gets nothing; reported once); a
// `goodbye` with `"to"` disconnects that window only.
//
// Ports and streams (docs/PROTOCOL.md 7.1) and requests from main (7.2) are routed per frame: a
// port belongs to the frame that opened it (its invoke that uploads a stream argument, or main's
// reply to its call; main's events and requests go to a window's main frame, and a message on a
// port to that port's frame). A subframe whose preload runs too (nodeIntegrationInSubFrames)
// numbers its ports on its own and gets their frames alone. The frames' own port ids (odd) get
// port ids of the bridge's on the wire; main's (even) keep theirs. Main's
// `invoke` with `"to"` goes to that window and its `reply` back; a window that goes away or loads
// another page has its ports closed (main is told) and main's requests to it fail.
//
// allowedOrigins entries: an origin ("app://todos", "https://app.example"); "*" for any origin
// but an opaque one; "null" for opaque origins (sandboxed iframes, data: URLs: dangerous, since
// any such frame qualifies); a folder ("file:///opt/app/", ending with '/') or a file
// ("file:///opt/app/index.html") for pages loaded from disk. A bare "file://" is refused: it
// would admit every local file.
//
// More options: label (default "electron-bridge"), webContents (to find windows by id), onError,
// handshakeTimeoutMs (10000), maxFrame (the largest frame accepted from the main, 4 MiB),
// maxPortsPerWindow (ports one window may have open at once, 256; past it, what would open more
// fails with "too_many_ports"),
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
// Whether an integer beyond 2^53 from main is read as a bigint (a contract declares
// `large_ints = "bigint"`) rather than a number.
const LARGE_INTS_BIGINT = {{BIGINTS}};
const INVOKE_CHANNELS = {{INVOKES}};
// Channels the preload calls with ipcRenderer.sendSync (`#[sync]` methods), each with its
// deadline in milliseconds: the bridge answers through `event.returnValue` by then.
const SYNC_CHANNELS = {{SYNCS}};
// How long after a sync call's deadline the bridge answers `timeout` itself (main answers at the
// deadline; this is for a main that does not).
const SYNC_GRACE_MS = 250;
// ipcMain -> the sync channels a stand-in answers on (see `standIn`).
const STAND_INS = new WeakMap();
const SEND_CHANNELS = {{SENDS}};
const EVENT_CHANNELS = {{EVENTS}};
// Each channel's declared `#[policy(...)]` levels (channels without are absent).
const POLICIES = {{POLICIES}};
const REQUEST_CHANNELS = {{REQUESTS}};
const CANCEL_CHANNEL = {{CANCEL_JS}};
const LAG_CHANNEL = {{LAG_JS}};
const FRAME_CHANNEL = {{FRAME_JS}};
const PROTOCOL_VERSION = 1;
const DEFAULT_MAX_FRAME = 4 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT_PER_WINDOW = 256;
const PORT_WINDOW = 16; // announced as port_window; the preload grants credit as its page reads
const MAX_PORTS = 1024; // announced as max_ports: main's ports open at once, all windows together
const DEFAULT_MAX_PORTS_PER_WINDOW = 256;
const MAX_CLOSED_BY_MAIN = 1024; // recent ports main closed, remembered for 7.1's table
const BRIDGE_OWN = -1; // the owner of the bridge's own frames (cancel, detach, pong, errors)
const FRAMEWORK_CODES = ['no_handler', 'bad_arguments', 'bad_reply', 'cancelled', 'timeout',
  'disconnected', 'handler_panicked', 'too_large', 'too_many_in_flight', 'too_many_connections', 'too_many_ports', 'forbidden',
  'version_mismatch', 'protocol', 'encode', 'revoked'];

{{CHUNKS}}

{{MSGPACK}}

{{POLICY}}

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
  const maxPortsPerWindow = isCount(options.maxPortsPerWindow) && options.maxPortsPerWindow > 0
    ? options.maxPortsPerWindow
    : DEFAULT_MAX_PORTS_PER_WINDOW;
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
  const pending = new Map(); // wire id -> { resolve, key, channel, webContentsId, holder }
  const byCall = new Map(); // "<webContents id>:<call id>" -> wire id
  const seen = new Map(); // webContents id -> webContents
  const disconnected = new Map(); // webContents id -> reason, for windows main said goodbye to
  const watched = []; // [webContents, 'destroyed' listener]
  // Ports (docs/PROTOCOL.md 7.1), routed between main and the frame that holds each.
  let peerPortWindow = PORT_WINDOW; // main's: the first credit on a port main receives on
  let peerMaxPorts = MAX_PORTS;
  // A port belongs to one frame of its window (its holder): the main frame (null), or a
  // subframe ({ frame: its WebFrameMain, key, page }) whose preload runs too
  // (nodeIntegrationInSubFrames) and numbers its ports on its own.
  const routes = new Map(); // wire port id -> { owner: webContents id, holder, local: the id the frame knows }
  const windowPorts = new Map(); // webContents id -> Map(localKey(holder, id) -> wire port id)
  const lastLocal = new Map(); // holderKey(owner, holder) -> the highest port id the frame opened
  let lastMainPort = 0; // the highest (even) port id main opened
  let lastOwnPort = -1; // the last (odd) port id the bridge opened
  const closedByMain = new Set();
  const openAfterHello = []; // [wire id]: windows' stream arguments to give credit once main's hello came
  const requests = new Map(); // main's request id -> { owner, channel }
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
    // Every port ends with the connection, and main's requests are cancelled in the windows.
    for (const [wire, route] of Array.from(routes)) {
      dropRoute(wire);
      toHolder(route, { t: 'close', port: route.local, error });
    }
    for (const [id, request] of Array.from(requests)) {
      requests.delete(id);
      toWindow(request.owner, { t: 'cancel', id });
    }
    openAfterHello.length = 0;
    waiting.length = 0;
    queue = [];
    queueHead = 0;
    queuedBytes = 0;
    queuedByWindow.clear();
    settleClosed(error);
  }

  function what(frame) {
    if (typeof frame.ch === 'string') return frame.ch;
    return frame.t === 'reply' ? `the reply to request ${frame.id}` : `${frame.t} on port ${frame.port}`;
  }

  // A frame as MessagePack with its length prefix in front (`framed`), and its body alone.
  function encode(frame) {
    let packed;
    try {
      packed = packFrame(frame, 4);
    } catch (e) {
      return { error: wireError('encode', `${what(frame)}: the value cannot be encoded: ${e.message}`, { reason: e.message }) };
    }
    const framed = Buffer.from(packed.buffer, packed.byteOffset, packed.length);
    framed.writeUInt32BE(packed.length - 4, 0);
    return { framed, body: framed.subarray(4) };
  }

  // The bridge's own frames, which always encode.
  function framed(frame) {
    return encode(frame).framed;
  }

  function withLength(body) {
    const out = Buffer.allocUnsafe(4 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.set(body, 4);
    return out;
  }

  // The frames that carry one encoded message to main: one frame, or chunks when it is longer
  // than main's max_frame and main accepts chunked messages that long.
  function framesOf(encoded, what) {
    const body = encoded.body;
    if (body.length <= peerMaxFrame) return { frames: [encoded.framed] };
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
    if (state === 'handshake') {
      const problem = noRoom(owner, encoded.framed.length, what(frame));
      if (problem !== null) return problem;
      waiting.push({ encoded, what: what(frame), refuse, owner });
      account(owner, encoded.framed.length);
      return null;
    }
    const framed = framesOf(encoded, what(frame));
    if (framed.error) return framed.error;
    if (isBacked()) {
      let size = 0;
      for (const bytes of framed.frames) size += bytes.length;
      const problem = noRoom(owner, size, what(frame));
      if (problem !== null) return problem;
    }
    for (const bytes of framed.frames) put(bytes, owner);
    return null;
  }

  // The bridge's own small frames (cancel, detach) are never refused: dropping one would leave a
  // handler running in the Rust main.
  function control(frame) {
    if (state === 'closed') return;
    const encoded = encode(frame);
    if (state === 'handshake') {
      waiting.push({ encoded, what: frame.t, refuse: null, owner: BRIDGE_OWN });
      account(BRIDGE_OWN, encoded.framed.length);
    } else {
      put(encoded.framed, BRIDGE_OWN);
    }
  }

  // Answers to the main's frames (pong, protocol errors): in order with everything else, but
  // dropped (and reported) rather than queued past maxQueuedBytes for a main that does not read.
  function answer(frame) {
    if (state !== 'open') return;
    const bytes = framed(frame);
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

  // Bad input from main answered with an error frame of its own code (too_many_ports, protocol).
  function refuseFrame(error) {
    report(Object.assign(new Error(`refused a frame of the Rust main: ${error.message}`), { code: error.code }));
    answer({ t: 'error', error });
  }

  // ---- ports (docs/PROTOCOL.md 7.1) ----------------------------------------------------------

  // received: messages forwarded to the window on the port; credited: credit the window granted
  // (never more than it received: a window cannot make the bridge queue credit without bound).
  function addRoute(wire, owner, holder, local) {
    routes.set(wire, { owner, holder, local, received: 0, credited: 0 });
    let mine = windowPorts.get(owner);
    if (mine === undefined) {
      mine = new Map();
      windowPorts.set(owner, mine);
    }
    mine.set(localKey(holder, local), wire);
  }

  function dropRoute(wire) {
    const route = routes.get(wire);
    if (route === undefined) return undefined;
    routes.delete(wire);
    const mine = windowPorts.get(route.owner);
    if (mine !== undefined) {
      mine.delete(localKey(route.holder, route.local));
      if (mine.size === 0) windowPorts.delete(route.owner);
    }
    return route;
  }

  // Which frame of the window a message came from, as a port's holder: null for the main frame,
  // else the subframe, its key and its page (read while the frame is there: a disposed
  // WebFrameMain throws on access); undefined when the frame is gone.
  function holderOf(event) {
    if (isMainFrameOf(event)) return null;
    try {
      const frame = event.senderFrame;
      return frame ? { frame, key: frameIdOf(frame), page: pageOf(frame) } : undefined;
    } catch (_) {
      return undefined;
    }
  }

  // A subframe for its whole life: Electron keeps one WebFrameMain per frame (its frame tree
  // node) across the pages the frame shows; without that id, its process and routing ids.
  function frameIdOf(frame) {
    const node = frame.frameTreeNodeId;
    return typeof node === 'number' ? `n${node}` : pageOf(frame);
  }

  // The page a subframe shows now: its process and routing ids, which change under the same
  // WebFrameMain when the frame loads a page in another process.
  function pageOf(frame) {
    return `${frame.processId}:${frame.routingId}`;
  }

  function frameKey(holder) {
    return holder.key;
  }

  // Whether the subframe `holder` still shows the page that holds its ports (false once the
  // frame is gone or shows another page).
  function holderAlive(holder) {
    try {
      return pageOf(holder.frame) === holder.page && typeof holder.frame.url === 'string';
    } catch (_) {
      return false;
    }
  }

  // A frame's own port id as a key of its window's ports: the main frame's as it is, a
  // subframe's qualified by the frame (each frame numbers its ports from 1).
  function localKey(holder, local) {
    return holder === null ? local : `${frameKey(holder)}#${local}`;
  }

  // A frame as a key of the frames that opened ports (lastLocal).
  function holderKey(owner, holder) {
    return holder === null ? owner : `${owner}/${frameKey(holder)}`;
  }

  function contentsOf(webContentsId) {
    let contents = seen.get(webContentsId);
    if (contents === undefined && webContentsModule && typeof webContentsModule.fromId === 'function') {
      contents = webContentsModule.fromId(webContentsId);
    }
    if (!contents || (typeof contents.isDestroyed === 'function' && contents.isDestroyed())) return null;
    return contents;
  }

  // A frame for a window's preload (FRAME_CHANNEL), only while its current page is allowed.
  function toWindow(owner, frame) {
    const contents = contentsOf(owner);
    if (contents === null || !mayReceive(contents)) return false;
    try {
      contents.send(FRAME_CHANNEL, frame);
      return true;
    } catch (e) {
      report(new Error(`could not send a \`${frame.t}\` frame to window ${owner}: ${e.message}`));
      return false;
    }
  }

  // A port frame for the frame that holds the port (`route`): its window's main frame, or the
  // subframe, only while the window's page and the subframe's own are allowed.
  function toHolder(route, frame) {
    if (route.holder === null) return toWindow(route.owner, frame);
    if (!holderMayReceive(route)) return false;
    try {
      route.holder.frame.send(FRAME_CHANNEL, frame);
      return true;
    } catch (e) {
      report(new Error(`could not send a \`${frame.t}\` frame to a subframe of window ${route.owner}: ${e.message}`));
      frameGone(route.owner, route.holder);
      return false;
    }
  }

  // The page of subframe `holder` that held ports is gone (the frame was removed, or shows
  // another page): its ports end, and main is told (unless main disconnected the window).
  function frameGone(owner, holder) {
    if (state === 'closed') return; // every port ends with the connection anyway
    const reason = 'the subframe went away';
    const error = wireError('disconnected', `the subframe's page went away: ${reason}`, { reason });
    closeWindowPorts(owner, error, !disconnected.has(owner), false, (route) => route.holder !== null
      && route.holder.key === holder.key && route.holder.page === holder.page);
    lastLocal.delete(holderKey(owner, holder));
  }

  // How many ports window `owner` has open, once those of its gone subframes are given back
  // when `more` would pass its limit.
  function openPorts(owner, more) {
    const count = () => (windowPorts.has(owner) ? windowPorts.get(owner).size : 0);
    if (count() + more > maxPortsPerWindow) sweepFrames(owner);
    return count();
  }

  // How many ports are open on the connection, once those of every window's gone subframes are
  // given back when `more` would pass `limit` (one window's removed iframes must not get the
  // others refused).
  function openOnConnection(more, limit) {
    if (routes.size + more > limit) for (const owner of [...windowPorts.keys()]) sweepFrames(owner);
    return routes.size;
  }

  // The subframes of window `owner` that are gone or show another page lose their ports: looked
  // for before a port is refused for a limit, and when a frame of the window that is already
  // gone says its page went.
  function sweepFrames(owner) {
    const mine = windowPorts.get(owner);
    if (mine === undefined) return;
    const gone = new Map();
    for (const wire of mine.values()) {
      const holder = routes.get(wire).holder;
      if (holder !== null && !gone.has(`${holder.key}/${holder.page}`) && !holderAlive(holder)) {
        gone.set(`${holder.key}/${holder.page}`, holder);
      }
    }
    for (const holder of gone.values()) frameGone(owner, holder);
  }

  // Whether the frame holding `route`'s port may still be sent to: its window may, and a
  // subframe still shows the page that holds the port, of an allowed origin.
  function holderMayReceive(route) {
    const contents = contentsOf(route.owner);
    if (contents === null || !mayReceive(contents)) return false;
    if (route.holder === null) return true;
    if (!holderAlive(route.holder)) {
      frameGone(route.owner, route.holder);
      return false;
    }
    try {
      return allow(originOf(route.holder.frame), String(route.holder.frame.url));
    } catch (_) {
      frameGone(route.owner, route.holder);
      return false;
    }
  }

  // Checks a `ports` list of main's (for a message to window `owner`, when known): { ids } or
  // { error } (`protocol`, `too_many_ports`). Nothing is opened yet.
  function checkMainPorts(list, owner) {
    if (list === undefined || list === null) return { ids: [] };
    const bad = (reason) => ({ error: wireError('protocol', `protocol error: ${reason}`, { reason }) });
    if (!Array.isArray(list)) return bad('`ports` is not an array of port ids');
    let last = lastMainPort;
    for (const id of list) {
      if (!isCount(id) || id === 0) return bad('the `ports` list names a port id that is not a positive integer');
      if (id % 2 === 1) return bad(`the \`ports\` list names port ${id}, an id of the receiver's parity (odd ids are the bridge's)`);
      if (routes.has(id)) return bad(`the \`ports\` list names port ${id}, which is already open`);
      if (id <= last) return bad(`the \`ports\` list names port ${id}, not above the sender's earlier port ids`);
      last = id;
    }
    const onConnection = openOnConnection(list.length, MAX_PORTS);
    if (onConnection + list.length > MAX_PORTS) {
      return { error: wireError('too_many_ports', `${onConnection} ports are open on this connection; ${list.length} more would pass the limit of ${MAX_PORTS}`, { limit: MAX_PORTS }) };
    }
    const open = owner === undefined ? 0 : openPorts(owner, list.length);
    if (open + list.length > maxPortsPerWindow) {
      return { error: wireError('too_many_ports', `window ${owner} has ${open} ports open; ${list.length} more would pass its limit of ${maxPortsPerWindow}`, { limit: maxPortsPerWindow }) };
    }
    return { ids: list.slice() };
  }

  // Main's ports (checked) now belong to frame `holder` of window `owner` (null: its main
  // frame), which is told with its first credit (main's port_window) before any frame of theirs.
  function openMainPorts(ids, owner, holder) {
    for (const id of ids) {
      lastMainPort = Math.max(lastMainPort, id);
      addRoute(id, owner, holder, id);
      toHolder(routes.get(id), { t: 'open', port: id, credit: peerPortWindow });
    }
  }

  // Main's ports (checked) that reach no window: they count as opened, and close unread.
  function notReceived(ids) {
    for (const id of ids) {
      lastMainPort = Math.max(lastMainPort, id);
      control({ t: 'close', port: id, reason: 'not received' });
    }
  }

  // A port frame from main, routed to the frame that holds the port.
  function onPortFrame(frame) {
    const id = frame.port;
    if (!isCount(id) || id === 0) {
      unexpected(`a \`${frame.t}\` frame without a valid port id`);
      return;
    }
    const route = routes.get(id);
    if (route === undefined) {
      if (frame.t === 'port' && closedByMain.has(id)) {
        unexpected(`a \`port\` message on port ${id} after the sender's own close`);
      } else if (id % 2 === 0 ? id > lastMainPort : id > lastOwnPort) {
        unexpected(`\`${frame.t}\` for port ${id}, which was never opened`);
      }
      // Otherwise a window or the bridge closed it while this was on its way: dropped.
      return;
    }
    if (frame.t === 'close') {
      dropRoute(id);
      closedByMain.add(id);
      if (closedByMain.size > MAX_CLOSED_BY_MAIN) closedByMain.delete(closedByMain.values().next().value);
      const out = { t: 'close', port: route.local };
      if (typeof frame.reason === 'string') out.reason = frame.reason;
      if (frame.error !== undefined && frame.error !== null) out.error = normalize(frame.error);
      else if (Object.prototype.hasOwnProperty.call(frame, 'app')) out.app = frame.app;
      toHolder(route, out);
      return;
    }
    if (frame.t === 'credit') {
      if (!isCount(frame.n)) {
        unexpected(`a \`credit\` frame for port ${id} without a valid \`n\``);
        return;
      }
      toHolder(route, { t: 'credit', port: route.local, n: frame.n });
      return;
    }
    const checked = checkMainPorts(frame.ports, route.owner);
    if (checked.error) {
      refuseFrame(checked.error);
      return;
    }
    if (!holderMayReceive(route)) {
      // The window's page (or the subframe's) is gone or not allowed any more: the port closes
      // (unless it closed as its subframe was found gone).
      notReceived(checked.ids);
      if (dropRoute(id) !== undefined) {
        const reason = `${route.holder === null ? 'window' : 'the subframe of window'} ${route.owner} may not receive it`;
        control({ t: 'close', port: id, error: wireError('forbidden', `port ${id}: ${reason}`, { reason }) });
      }
      return;
    }
    openMainPorts(checked.ids, route.owner, route.holder);
    const out = { t: 'port', port: route.local, data: frame.data === undefined ? null : frame.data };
    if (checked.ids.length > 0) out.ports = checked.ids;
    route.received += 1;
    toHolder(route, out);
  }

  // A frame's stream arguments: its own port ids (odd, each above its earlier ones), within
  // the window's and main's limits. { ids } or { error }.
  function checkWindowPorts(owner, holder, list) {
    const bad = (reason) => ({ error: wireError('protocol', `protocol error: ${reason}`, { reason }) });
    if (!Array.isArray(list) || list.length === 0) return bad('the ports must be a non-empty array of port ids');
    let last = lastLocal.get(holderKey(owner, holder)) || 0;
    for (const id of list) {
      if (!isCount(id) || id % 2 !== 1 || id <= last) return bad(`port ${String(id)} is not a new port of this window`);
      last = id;
    }
    const open = openPorts(owner, list.length);
    if (open + list.length > maxPortsPerWindow) {
      return { error: wireError('too_many_ports', `this window has ${open} ports open; ${list.length} more would pass its limit of ${maxPortsPerWindow}`, { limit: maxPortsPerWindow }) };
    }
    const toMain = openOnConnection(list.length, peerMaxPorts);
    if (toMain + list.length > peerMaxPorts) {
      return { error: wireError('too_many_ports', `${toMain} ports are open to the Rust main; ${list.length} more would pass its limit of ${peerMaxPorts}`, { limit: peerMaxPorts }) };
    }
    return { ids: list.slice() };
  }

  // The port references in a window's arguments, renamed to the bridge's port ids on the wire.
  function renamePorts(value, rename, depth) {
    if (value === null || typeof value !== 'object' || depth > 64 || ArrayBuffer.isView(value)) return value;
    if (Array.isArray(value)) {
      let copy = null;
      for (let i = 0; i < value.length; i++) {
        const renamed = renamePorts(value[i], rename, depth + 1);
        if (renamed !== value[i]) {
          if (copy === null) copy = value.slice();
          copy[i] = renamed;
        }
      }
      return copy === null ? value : copy;
    }
    if ((value.$ipc === 'stream' || value.$ipc === 'port') && rename.has(value.port)) {
      return Object.assign({}, value, { port: rename.get(value.port) });
    }
    let copy = null;
    for (const key of Object.keys(value)) {
      const renamed = renamePorts(value[key], rename, depth + 1);
      if (renamed !== value[key]) {
        if (copy === null) copy = Object.assign({}, value);
        copy[key] = renamed;
      }
    }
    return copy === null ? value : copy;
  }

  // A window's port went out to main: the window gets main's port_window as its first credit.
  function grantOpen(wire) {
    const route = routes.get(wire);
    if (route !== undefined) toHolder(route, { t: 'open', port: route.local, credit: peerPortWindow });
  }

  // The ports of window `owner` end (only those `only(route)` picks, when given): main is told
  // (`tellMain`: a close with `error`) and/or the frames holding them (`tellWindow`).
  function closeWindowPorts(owner, error, tellMain, tellWindow, only) {
    const mine = windowPorts.get(owner);
    if (mine === undefined) return;
    for (const wire of Array.from(mine.values())) {
      const route = routes.get(wire);
      // (Gone already: telling one frame found it gone, and closed its ports.)
      if (route === undefined) continue;
      if (only !== undefined && !only(route)) continue;
      dropRoute(wire);
      if (tellMain) control({ t: 'close', port: wire, error });
      if (tellWindow) toHolder(route, { t: 'close', port: route.local, error });
    }
  }

  // ---- requests from main (docs/PROTOCOL.md 7.2) ---------------------------------------------

  function onRequest(frame) {
    const id = frame.id;
    if (!isCount(id)) {
      unexpected('an `invoke` without a valid `id`');
      return;
    }
    const channel = typeof frame.ch === 'string' ? frame.ch : '';
    // Answers to main's requests are never refused: main would wait for them until its deadline.
    const fail = (error) => control({ t: 'reply', id, error: Object.assign({ channel }, error) });
    if (requests.has(id)) {
      fail(wireError('protocol', `protocol error: request ${id} is already running`, { reason: `request ${id} is already running` }));
      return;
    }
    const owner = frame.to;
    const checked = checkMainPorts(frame.ports, typeof owner === 'number' ? owner : undefined);
    if (checked.error) {
      fail(checked.error);
      return;
    }
    const refuse = (error) => {
      notReceived(checked.ids);
      fail(error);
    };
    if (typeof owner !== 'number') {
      const reason = 'a request to a bridge must name its window with `to`';
      refuse(wireError('protocol', `protocol error: ${reason}`, { reason }));
      return;
    }
    if (REQUEST_CHANNELS.indexOf(channel) < 0) {
      refuse(wireError('no_handler', `no handler is registered for channel \`${channel}\``));
      return;
    }
    const gone = windowGone(channel, owner);
    if (gone !== null) {
      refuse(gone);
      return;
    }
    const contents = contentsOf(owner);
    if (contents === null) {
      const reason = `window ${owner} is gone`;
      refuse(wireError('disconnected', `${channel}: ${reason}`, { reason }));
      return;
    }
    if (!mayReceive(contents)) {
      const reason = `window ${owner}'s page is not allowed`;
      refuse(wireError('forbidden', `${channel}: ${reason}`, { reason }));
      return;
    }
    requests.set(id, { owner, channel });
    openMainPorts(checked.ids, owner, null);
    const out = { t: 'invoke', id, ch: channel, args: Array.isArray(frame.args) ? frame.args : [] };
    if (isCount(frame.timeout_ms)) out.timeout_ms = frame.timeout_ms;
    if (checked.ids.length > 0) out.ports = checked.ids;
    toWindow(owner, out);
  }

  function onRequestCancel(frame) {
    if (!isCount(frame.id)) {
      unexpected('a `cancel` without a valid `id`');
      return;
    }
    const request = requests.get(frame.id);
    if (request === undefined) return; // answered already: the cancel crossed the reply
    requests.delete(frame.id);
    toWindow(request.owner, { t: 'cancel', id: frame.id });
  }

  // Main's requests to window `owner`, which will not answer them.
  function failWindowRequests(owner, reason) {
    for (const [id, request] of Array.from(requests)) {
      if (request.owner !== owner) continue;
      requests.delete(id);
      control({ t: 'reply', id, error: wireError('disconnected', `${request.channel}: ${reason}`, { channel: request.channel, reason }) });
    }
  }

  // ---- frames from windows (FRAME_CHANNEL) ---------------------------------------------------

  function isMainFrameOf(event) {
    try {
      const contents = event.sender;
      const main = contents ? contents.mainFrame : null;
      // Without a main frame to compare with, a frame that is named is not taken for it.
      return main ? main === event.senderFrame : !event.senderFrame;
    } catch (_) {
      return false;
    }
  }

  // A new page in a window: what the earlier page left open ends (main is told), its
  // subframes' ports included (they went with it).
  function resetWindow(owner, reason) {
    const error = wireError('disconnected', `the window's page went away: ${reason}`, { reason });
    closeWindowPorts(owner, error, true, false);
    failWindowRequests(owner, `the window's page went away (${reason})`);
    forgetLastLocal(owner);
  }

  // A new page in a subframe (its preload ran again): what the frame's earlier page left open
  // ends (main is told); the rest of the window is untouched.
  function resetFrame(owner, holder, reason) {
    const error = wireError('disconnected', `the subframe's page went away: ${reason}`, { reason });
    closeWindowPorts(owner, error, true, false, (route) => route.holder !== null && route.holder.key === holder.key);
    lastLocal.delete(holderKey(owner, holder));
  }

  // The highest port ids the frames of window `owner` opened, forgotten.
  function forgetLastLocal(owner) {
    const prefix = `${owner}/`;
    for (const key of Array.from(lastLocal.keys())) {
      if (key === owner || (typeof key === 'string' && key.startsWith(prefix))) lastLocal.delete(key);
    }
  }

  function onWindowFrame(event, frame) {
    if (!event || frame === null || typeof frame !== 'object' || state === 'closed') return;
    if (frame.t === 'reset') {
      // Whatever the new page's origin: it only ends what the window's earlier page had open.
      const owner = event.sender && typeof event.sender.id === 'number' ? event.sender.id : -1;
      const holder = holderOf(event);
      if (holder === null) resetWindow(owner, 'it was reloaded or navigated away');
      else if (holder !== undefined) resetFrame(owner, holder, 'it was reloaded or navigated away');
      // A frame already gone: whatever its window's gone subframes held ends now.
      else sweepFrames(owner);
      return;
    }
    const who = identify(event, FRAME_CHANNEL);
    if (who.error) {
      report(Object.assign(new Error(who.error.message), { code: who.error.code }));
      return;
    }
    const owner = who.sender.id;
    if (disconnected.has(owner)) return;
    if (frame.t === 'reply') {
      const request = requests.get(frame.id);
      // Cancelled, timed out, or not this window's (main's requests go to its main frame).
      if (request === undefined || request.owner !== owner || who.holder !== null) return;
      requests.delete(frame.id);
      let out;
      if (Object.prototype.hasOwnProperty.call(frame, 'ok')) out = { t: 'reply', id: frame.id, ok: frame.ok };
      else if (Object.prototype.hasOwnProperty.call(frame, 'app')) out = { t: 'reply', id: frame.id, app: frame.app };
      else out = { t: 'reply', id: frame.id, error: Object.assign(normalize(frame.error), { channel: request.channel }) };
      const problem = submit(out, (error) => control({ t: 'reply', id: frame.id, error }), owner);
      if (problem !== null) control({ t: 'reply', id: frame.id, error: Object.assign({ channel: request.channel }, problem) });
      return;
    }
    if (frame.t !== 'port' && frame.t !== 'credit' && frame.t !== 'close') {
      report(new Error(`window ${owner} sent a frame the bridge does not take (${String(frame.t)})`));
      return;
    }
    const mine = windowPorts.get(owner);
    const wire = mine !== undefined && isCount(frame.port) ? mine.get(localKey(who.holder, frame.port)) : undefined;
    if (wire === undefined) return; // closed meanwhile, or never routed (or another frame's): dropped
    // (A port of the page the subframe showed before: not this page's.)
    if (who.holder !== null && routes.get(wire).holder.page !== who.holder.page) return;
    if (frame.t === 'credit') {
      const route = routes.get(wire);
      if (!isCount(frame.n) || frame.n === 0 || route.credited + frame.n > route.received) return;
      route.credited += frame.n;
      control({ t: 'credit', port: wire, n: frame.n });
      return;
    }
    if (frame.t === 'close') {
      dropRoute(wire);
      const out = { t: 'close', port: wire };
      if (typeof frame.reason === 'string') out.reason = frame.reason;
      if (frame.error !== undefined && frame.error !== null) out.error = normalize(frame.error);
      control(out);
      return;
    }
    const problem = submit({ t: 'port', port: wire, data: frame.data === undefined ? null : frame.data }, null, owner);
    if (problem !== null) {
      // The window's share of the queue is full (or the message is too large): the port closes.
      const route = dropRoute(wire);
      control({ t: 'close', port: wire, error: problem });
      if (route !== undefined) toHolder(route, { t: 'close', port: route.local, error: problem });
    }
  }

  // Last words before closing: written at once, ahead of frames still queued (they are dropped
  // with the connection, and their calls fail with it).
  function goodbye(reason) {
    if (state !== 'open') return;
    write(framed({ t: 'goodbye', reason }));
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
    // The contract's policy, checked against the frame Electron names (the Rust main checks
    // again, with the grant): a refused call never reaches the main. Port frames are not
    // calls: their port came with a call the policy admitted.
    const mainFrame = isMainFrameOf(event);
    const declared = Object.prototype.hasOwnProperty.call(POLICIES, channel) ? POLICIES[channel] : undefined;
    // Undeclared, a main frame's call needs no check (the common case: nothing allocated).
    const rule = channel === FRAME_CHANNEL || (declared === undefined && mainFrame)
      ? null
      : policyRefusal(declared, { kind: 'window', origin, mainFrame });
    if (rule !== null) {
      const reason = `${mainFrame ? 'the main frame' : 'a subframe'} of ${origin} does not meet ${rule === 'default' ? 'the default policy (nothing declared: a window\'s subframes are refused)' : rule}`;
      return { error: wireError('forbidden', `${channel}: ${reason}`, { channel, reason, rule }) };
    }
    const contents = event.sender;
    const id = contents && typeof contents.id === 'number' ? contents.id : -1;
    if (contents) remember(contents);
    const holder = mainFrame ? null : holderOf(event);
    if (holder === undefined) {
      return { error: wireError('forbidden', `${channel}: the sending frame is gone`, { channel, reason: 'the sending frame is gone' }) };
    }
    return { sender: { id, url, origin, main_frame: mainFrame }, holder };
  }

  function remember(contents) {
    if (typeof contents.id !== 'number' || seen.has(contents.id)) return;
    seen.set(contents.id, contents);
    if (typeof contents.once === 'function') {
      const gone = () => {
        // Its ports end (main is told) and main's requests to it fail, before it is detached.
        closeWindowPorts(contents.id, wireError('disconnected', 'the window was destroyed', { reason: 'the window was destroyed' }), true, false);
        failWindowRequests(contents.id, 'the window was destroyed');
        forgetLastLocal(contents.id);
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
    return (event, callId, timeoutMs, uploads, ...args) => {
      const started = startCall(event, channel, callId, timeoutMs, uploads, args);
      return started.error !== undefined ? started : started.promise;
    };
  }

  // A sync call (ipcRenderer.sendSync): the window's renderer is blocked until `returnValue` is
  // set, so it is set on every path, at the latest when the contract's deadline passes (main
  // applies the same deadline and answers `timeout` itself; this timer covers a main that does
  // not answer at all).
  function onSync(channel, deadline) {
    return (event, callId, ...args) => {
      let answered = false;
      const answer = (envelope) => {
        if (answered) return;
        answered = true;
        try {
          event.returnValue = envelope;
        } catch (error) {
          report(error);
        }
      };
      const failed = (cause) => {
        const reason = cause && typeof cause.message === 'string' ? cause.message : String(cause);
        answer({ error: wireError('disconnected', `${channel}: the bridge failed: ${reason}`, { reason }) });
      };
      try {
        const started = startCall(event, channel, callId, deadline, null, args, true);
        if (started.error !== undefined) {
          answer(started);
          return;
        }
        const { id, promise } = started;
        // Main ends the call at the deadline itself; this covers a main that does not answer.
        const timer = setTimeout(() => {
          if (!pending.has(id)) return;
          control({ t: 'cancel', id });
          settle(id, { error: wireError('timeout', `${channel} timed out after ${deadline} ms`, { channel, after_ms: deadline }) });
        }, deadline + SYNC_GRACE_MS);
        promise.then((envelope) => {
          clearTimeout(timer);
          answer(envelope);
        }, (cause) => {
          clearTimeout(timer);
          failed(cause);
        });
      } catch (cause) {
        failed(cause);
      }
    };
  }

  // Electron never answers a sendSync on a channel without listeners: the renderer would hang.
  // Once the bridge is gone, a stand-in answers its sync channels while it is their only
  // listener (a bridge created later answers for itself). One stand-in per ipcMain and channel,
  // however many bridges come and go.
  function standIn(channel) {
    let installed = STAND_INS.get(ipcMain);
    if (installed === undefined) {
      installed = new Set();
      STAND_INS.set(ipcMain, installed);
    }
    if (installed.has(channel)) return;
    installed.add(channel);
    ipcMain.on(channel, (event) => {
      if (typeof ipcMain.listenerCount === 'function' && ipcMain.listenerCount(channel) > 1) return;
      try {
        event.returnValue = { error: wireError('disconnected', `${channel}: the bridge was disposed`, { reason: 'disposed' }) };
      } catch (_) { /* the window is gone */ }
    });
  }

  // Checks a window's call and forwards it to main: an `{ error }` envelope at once, or the wire
  // id and a promise of the envelope main's reply makes. A sync call's reply may not transfer
  // ports (sendSync cannot hand one over).
  function startCall(event, channel, callId, timeoutMs, uploads, args, sync = false) {
    const who = identify(event, channel);
    if (who.error) return { error: who.error };
    if (!isCount(callId) || callId === 0) {
      return { error: wireError('protocol', `${channel}: the call id must be a positive integer`, { reason: 'bad call id' }) };
    }
    if (timeoutMs !== null && timeoutMs !== undefined && !isCount(timeoutMs)) {
      return { error: wireError('protocol', `${channel}: timeoutMs must be a non-negative integer or null`, { reason: 'bad timeout' }) };
    }
    if (state === 'closed') return { error: closedError };
    let streams = null;
    if (uploads !== null && uploads !== undefined) {
      streams = checkWindowPorts(who.sender.id, who.holder, uploads);
      if (streams.error) return { error: Object.assign({ channel }, streams.error) };
    }
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
    // Each stream argument becomes a port of the bridge's on the wire, routed to this window.
    let wires = null;
    if (streams !== null) {
      const owner = who.sender.id;
      lastLocal.set(holderKey(owner, who.holder), streams.ids[streams.ids.length - 1]);
      const rename = new Map();
      wires = streams.ids.map((local) => {
        lastOwnPort += 2;
        addRoute(lastOwnPort, owner, who.holder, local);
        rename.set(local, lastOwnPort);
        return lastOwnPort;
      });
      frame.args = renamePorts(args, rename, 0);
      frame.ports = wires;
    }
    // Refused before main saw it: its ports were never opened there.
    const unopened = () => {
      if (wires !== null) for (const wire of wires) dropRoute(wire);
    };
    const promise = new Promise((resolve) => {
      pending.set(id, { resolve, key, channel, webContentsId: who.sender.id, holder: who.holder, uploads: wires, sync });
      inFlightByWindow.set(who.sender.id, inFlight + 1);
      byCall.set(key, id);
      const problem = submit(frame, (error) => {
        unopened();
        settle(id, { error });
      }, who.sender.id);
      if (problem !== null) {
        unopened();
        settle(id, { error: problem });
      } else if (wires !== null) {
        // The window may send within main's port_window: the first credit, once it is known.
        if (state === 'open') for (const wire of wires) grantOpen(wire);
        else openAfterHello.push(...wires);
      }
    });
    return { id, promise };
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
      // Main ended the window's ports and requests itself: only the window is told.
      closeWindowPorts(webContentsId, wireError('disconnected', `the Rust main disconnected this window: ${reason}`, { reason }), false, true);
      for (const [id, request] of Array.from(requests)) {
        if (request.owner !== webContentsId) continue;
        requests.delete(id);
        toWindow(webContentsId, { t: 'cancel', id });
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
      // Windows the main's grants withhold this event from.
      if (Array.isArray(frame.except)) targets = targets.filter((contents) => frame.except.indexOf(contents.id) < 0);
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

  // Whether the event `channel`'s own policy admits the window's current main frame. A window
  // it does not admit is left out as intended (nothing to report): the policy says so.
  function policyAdmits(contents, channel) {
    if (!Object.prototype.hasOwnProperty.call(POLICIES, channel)) return true;
    try {
      return policyRefusal(POLICIES[channel], { kind: 'window', origin: originOf(contents.mainFrame), mainFrame: true }) === null;
    } catch (_) {
      return false;
    }
  }

  // `policyChannel`: the channel whose policy applies (a lag notice's is its event's).
  function sendTo(contents, channel, args, policyChannel = channel) {
    if (!mayReceive(contents) || !policyAdmits(contents, policyChannel)) return;
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
    if (frame.ports === undefined || frame.ports === null || (Array.isArray(frame.ports) && frame.ports.length === 0)) {
      for (const contents of targetsOf(frame)) sendTo(contents, frame.ch, frame.args);
      return;
    }
    // A port has one owner: an event that transfers ports goes to the one window it names.
    const targets = targetsOf(frame);
    const single = typeof frame.to === 'number' || (Array.isArray(frame.to) && frame.to.length === 1);
    const owner = single && targets.length === 1 ? targets[0].id : undefined;
    const checked = checkMainPorts(frame.ports, owner);
    if (checked.error) {
      refuseFrame(checked.error);
      return;
    }
    if (owner === undefined || !mayReceive(targets[0]) || !policyAdmits(targets[0], frame.ch)) {
      notReceived(checked.ids);
      if (owner === undefined) report(new Error(`an event on ${frame.ch} transfers ports but does not name one window; its ports were closed`));
      return;
    }
    openMainPorts(checked.ids, owner, null);
    toWindow(owner, { t: 'event', ch: frame.ch, args: frame.args, ports: checked.ids });
  }

  function deliverLag(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !isCount(frame.missed)) {
      report(new Error(`ignored a malformed lag notice for channel ${String(frame.ch)}`));
      return;
    }
    for (const contents of targetsOf(frame)) sendTo(contents, LAG_CHANNEL, [frame.ch, frame.missed], frame.ch);
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
    if (isCount(frame.port_window) && frame.port_window > 0) peerPortWindow = Math.min(frame.port_window, 0xffffffff);
    if (isCount(frame.max_ports) && frame.max_ports > 0) peerMaxPorts = frame.max_ports;
    state = 'open';
    clearTimeout(handshakeTimer);
    for (const item of waiting.splice(0)) {
      account(item.owner, -item.encoded.framed.length);
      const framed = framesOf(item.encoded, item.what);
      if (framed.error) {
        if (item.refuse !== null) item.refuse(framed.error);
        continue;
      }
      for (const bytes of framed.frames) put(bytes, item.owner);
    }
    for (const wire of openAfterHello.splice(0)) grantOpen(wire);
    settleReady({ renderer: frame.renderer, contracts: theirs });
  }

  // The handshake is JSON; every frame after main's hello is MessagePack.
  function onFrame(body) {
    let frame;
    try {
      frame = state === 'handshake' ? JSON.parse(decoder.decode(body)) : unpackFrame(body, LARGE_INTS_BIGINT);
    } catch (e) {
      if (state === 'handshake') report(new Error(`the Rust main sent a handshake frame that is not JSON: ${e.message}`));
      else unexpected(`a frame that is not MessagePack: ${e.message}`);
      return;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      if (state === 'handshake') report(new Error('the Rust main sent a handshake frame that is not a JSON object'));
      else unexpected('a frame that is not a map');
      return;
    }
    if (state === 'handshake') {
      onHello(frame);
      return;
    }
    switch (frame.t) {
      case 'reply': {
        const call = pending.get(frame.id);
        const hasOk = Object.prototype.hasOwnProperty.call(frame, 'ok');
        const hasApp = !hasOk && Object.prototype.hasOwnProperty.call(frame, 'app');
        if (!hasOk && !hasApp) {
          const error = normalize(frame.error);
          // Refused for its ports: main opened none of the call's stream arguments.
          if (call !== undefined && call.uploads && (error.code === 'too_many_ports' || error.code === 'protocol')) {
            for (const wire of call.uploads) dropRoute(wire);
          }
          settle(frame.id, { error });
          break;
        }
        const checked = checkMainPorts(frame.ports, call === undefined ? undefined : call.webContentsId);
        if (checked.error) {
          refuseFrame(checked.error);
          if (call !== undefined) {
            settle(frame.id, { error: Object.assign({ channel: call.channel }, checked.error) });
          }
          break;
        }
        if (call === undefined) {
          notReceived(checked.ids); // a call given up on: what its reply transfers is not received
          break;
        }
        if (call.sync && checked.ids.length > 0) {
          // sendSync cannot hand a port over: main's ports are closed again.
          notReceived(checked.ids);
          settle(frame.id, { error: wireError('bad_reply', `${call.channel}: a sync call's reply cannot transfer ports`, { channel: call.channel, reason: 'ports in a sync reply' }) });
          break;
        }
        openMainPorts(checked.ids, call.webContentsId, call.holder);
        const envelope = hasOk ? { ok: frame.ok } : { app: frame.app };
        if (checked.ids.length > 0) envelope.ports = checked.ids;
        settle(frame.id, envelope);
        break;
      }
      case 'port':
      case 'credit':
      case 'close':
        onPortFrame(frame);
        break;
      case 'invoke':
        onRequest(frame);
        break;
      case 'cancel':
        onRequestCancel(frame);
        break;
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

  // A chunk of a message longer than our max_frame (its first byte is 0, which starts no frame).
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
    for (const channel of Object.keys(SYNC_CHANNELS)) {
      const listener = onSync(channel, SYNC_CHANNELS[channel]);
      ipcMain.on(channel, listener);
      registered.push([channel, listener]);
    }
    for (const channel of SEND_CHANNELS) {
      const listener = onSend(channel);
      ipcMain.on(channel, listener);
      registered.push([channel, listener]);
    }
    ipcMain.on(CANCEL_CHANNEL, onCancel);
    registered.push([CANCEL_CHANNEL, onCancel]);
    ipcMain.on(FRAME_CHANNEL, onWindowFrame);
    registered.push([FRAME_CHANNEL, onWindowFrame]);
  } catch (e) {
    for (const channel of handled) ipcMain.removeHandler(channel);
    for (const [channel, listener] of registered) ipcMain.removeListener(channel, listener);
    for (const channel of Object.keys(SYNC_CHANNELS)) standIn(channel);
    close(wireError('disconnected', `the bridge could not register its handlers: ${e.message}`, { reason: e.message }));
    end();
    throw e;
  }

  write(withLength(Buffer.from(JSON.stringify({
    t: 'hello',
    protocol: PROTOCOL_VERSION,
    role: 'bridge',
    codec: 'msgpack',
    contracts: CONTRACTS,
    label,
    max_frame: maxFrame,
    max_message: maxMessage,
    port_window: PORT_WINDOW,
    max_ports: MAX_PORTS,
  }), 'utf8')));

  let disposed = false;
  function dispose() {
    if (disposed) return;
    disposed = true;
    for (const channel of handled) ipcMain.removeHandler(channel);
    for (const [channel, listener] of registered) ipcMain.removeListener(channel, listener);
    for (const channel of Object.keys(SYNC_CHANNELS)) standIn(channel);
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

module.exports = { createBridge, CONTRACTS, INVOKE_CHANNELS, SYNC_CHANNELS, SEND_CHANNELS, EVENT_CHANNELS, REQUEST_CHANNELS, CANCEL_CHANNEL, LAG_CHANNEL, FRAME_CHANNEL };
