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
// id, or an array of them), or to every window the bridge has seen; a `goodbye` with `"to"`
// disconnects that window only.
//
// More options: label (default "electron-bridge"), webContents (to find windows by id), onError,
// handshakeTimeoutMs (10000), maxFrame (the largest frame accepted from the main, 4 MiB),
// maxMessage (the largest message accepted from the main in chunks, 64 MiB) and maxQueuedBytes
// (how much may wait for a main that does not read, 64 MiB; past it calls fail at once with
// "too_many_in_flight").
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
const FRAMEWORK_CODES = ['no_handler', 'bad_arguments', 'bad_reply', 'cancelled', 'timeout',
  'disconnected', 'handler_panicked', 'too_large', 'too_many_in_flight', 'forbidden',
  'version_mismatch', 'protocol', 'encode'];

{{CHUNKS}}

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
  const maxMessage = Math.min(isCount(options.maxMessage) && options.maxMessage > 0 ? options.maxMessage : DEFAULT_MAX_MESSAGE, MAX_CHUNKED_MESSAGE);
  const maxQueuedBytes = isCount(options.maxQueuedBytes) ? options.maxQueuedBytes : DEFAULT_MAX_QUEUED_BYTES;
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
  // refuse } (refuse(error) fails the call or reports the send if the body turns out too large).
  const waiting = [];
  // Frames (length prefix included) waiting for 'drain'; `queueHead` is the next one to write.
  let queue = [];
  let queueHead = 0;
  let queuedBytes = 0; // in `waiting` and `queue`
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

  // Frames leave in the order they were put, whether written at once or queued behind a stream
  // that asked to wait.
  function put(bytes) {
    if (blocked || queueHead < queue.length) {
      queue.push(bytes);
      queuedBytes += bytes.length;
    } else {
      write(bytes);
    }
  }

  function onDrain() {
    blocked = false;
    while (!blocked && state !== 'closed' && queueHead < queue.length) {
      const bytes = queue[queueHead];
      queue[queueHead++] = undefined;
      queuedBytes -= bytes.length;
      write(bytes);
    }
    if (queueHead === queue.length) {
      queue = [];
      queueHead = 0;
    } else if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue = queue.slice(queueHead);
      queueHead = 0;
    }
  }

  function backedUp(what) {
    return wireError('too_many_in_flight', `${what}: ${queuedBytes} bytes already wait for the Rust main to read them (the limit is ${maxQueuedBytes}); it is not keeping up`, { limit: maxQueuedBytes });
  }

  // Sends an invoke or a send of a page, or answers why not (a wire error). Refused at once
  // when it would make more than maxQueuedBytes wait: Electron's main process must not buffer
  // without limit for a Rust main that stopped reading.
  function submit(frame, refuse) {
    if (state === 'closed') return closedError;
    const encoded = encode(frame);
    if (encoded.error) return encoded.error;
    const body = encoded.body;
    if (state === 'handshake') {
      if (queuedBytes + 4 + body.length > maxQueuedBytes) return backedUp(frame.ch);
      waiting.push({ body, what: frame.ch, refuse });
      queuedBytes += 4 + body.length;
      return null;
    }
    const framed = framesOf(body, frame.ch);
    if (framed.error) return framed.error;
    if (blocked || queueHead < queue.length) {
      let size = 0;
      for (const bytes of framed.frames) size += bytes.length;
      if (queuedBytes + size > maxQueuedBytes) return backedUp(frame.ch);
    }
    for (const bytes of framed.frames) put(bytes);
    return null;
  }

  // The bridge's own small frames (cancel, detach) are never refused: dropping one would leave a
  // handler running in the Rust main.
  function control(frame) {
    if (state === 'closed') return;
    const body = Buffer.from(JSON.stringify(frame), 'utf8');
    if (state === 'handshake') {
      waiting.push({ body, what: frame.t, refuse: null });
      queuedBytes += 4 + body.length;
    } else {
      put(withLength(body));
    }
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
            control({ t: 'cancel', id });
            settle(id, { error: wireError('cancelled', `${call.channel}: the window was destroyed`, { channel: call.channel }) });
          }
        }
        control({ t: 'detach', sender: contents.id });
        disconnected.delete(contents.id);
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
      const id = ++nextWireId;
      const frame = { t: 'invoke', id, ch: channel, args };
      if (isCount(timeoutMs)) frame.timeout_ms = timeoutMs;
      frame.sender = who.sender;
      return new Promise((resolve) => {
        pending.set(id, { resolve, key, channel, webContentsId: who.sender.id });
        byCall.set(key, id);
        const problem = submit(frame, (error) => settle(id, { error }));
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
      const problem = submit({ t: 'send', ch: channel, args, sender: who.sender }, refuse);
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

  function deliver(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !Array.isArray(frame.args)) {
      report(new Error(`ignored an event on undeclared channel ${String(frame.ch)}`));
      return;
    }
    for (const contents of targetsOf(frame)) contents.send(frame.ch, ...frame.args);
  }

  function deliverLag(frame) {
    if (typeof frame.ch !== 'string' || EVENT_CHANNELS.indexOf(frame.ch) < 0 || !isCount(frame.missed)) {
      report(new Error(`ignored a malformed lag notice for channel ${String(frame.ch)}`));
      return;
    }
    for (const contents of targetsOf(frame)) contents.send(LAG_CHANNEL, frame.ch, frame.missed);
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
      queuedBytes -= 4 + item.body.length;
      const framed = framesOf(item.body, item.what);
      if (framed.error) {
        if (item.refuse !== null) item.refuse(framed.error);
        continue;
      }
      for (const bytes of framed.frames) put(bytes);
    }
    settleReady({ renderer: frame.renderer, contracts: theirs });
  }

  function onFrame(body) {
    let frame;
    try {
      frame = JSON.parse(decoder.decode(body));
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
      default:
        break; // Unknown frame types are ignored, as the protocol asks.
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
