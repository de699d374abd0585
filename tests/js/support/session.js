'use strict';
// One Electron "app" under test: a real Rust main child process (the examples' Todos contract
// over stdio), the generated bridge.js on a fake ipcMain, and windows running the generated
// preload.js. The bridge's transport is tapped so tests can see every wire frame.

const { spawn } = require('node:child_process');
const { EventEmitter } = require('node:events');

const { binaries, generate } = require('./setup');
const { decodeBody, encodeBody, packFrame } = require('./msgpack');
const { createWindow, FakeIpcMain } = require('./electron');

/**
 * Splits length-prefixed frames out of a byte stream; calls `onFrame(object)` for each message,
 * with chunked messages reassembled (docs/PROTOCOL.md 1.1), and `onChunk({ id, total, offset,
 * length })` for each chunk frame.
 */
function frameReader(onFrame, onChunk = () => {}) {
  let pieces = [];
  let size = 0;
  let needed = 4;
  const partial = new Map();
  return (bytes) => {
    pieces.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    size += bytes.length;
    if (size < needed) return;
    let buffered = Buffer.concat(pieces, size);
    needed = 4;
    while (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length < 4 + length) {
        needed = 4 + length;
        break;
      }
      const body = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      if (body[0] !== 0) {
        onFrame(decodeBody(body));
        continue;
      }
      const chunk = { id: body.readUInt32BE(1), total: body.readUInt32BE(5), offset: body.readUInt32BE(9), length: body.length - 13 };
      onChunk(chunk);
      const parts = partial.get(chunk.id) || [];
      parts.push(Buffer.from(body.subarray(13)));
      partial.set(chunk.id, parts);
      if (chunk.offset + chunk.length === chunk.total) {
        partial.delete(chunk.id);
        onFrame(decodeBody(Buffer.concat(parts)));
      }
    }
    pieces = [buffered];
    size = buffered.length;
  };
}

/**
 * A length-prefixed frame: JSON where `json` is true, MessagePack where it is false; by default
 * JSON for a hello (the handshake's frames are JSON) and MessagePack for every other frame.
 */
function frameBytes(object, json = undefined) {
  let body;
  if (json === true) body = Buffer.from(JSON.stringify(object), 'utf8');
  else if (json === false) body = Buffer.from(packFrame(object, 0));
  else body = encodeBody(object);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Spawns the Rust main and wraps its stdio in a transport that records both directions. */
function tappedRustMain() {
  const child = spawn(binaries().todosMain, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const toRust = [];
  const fromRust = [];
  const chunksToRust = [];
  const chunksFromRust = [];
  const readToRust = frameReader((frame) => toRust.push(frame), (chunk) => chunksToRust.push(chunk));
  const readable = new EventEmitter();
  const readFromRust = frameReader((frame) => fromRust.push(frame), (chunk) => chunksFromRust.push(chunk));
  child.stdout.on('data', (chunk) => {
    readFromRust(chunk);
    readable.emit('data', chunk);
  });
  child.stdout.on('end', () => readable.emit('end'));
  child.stdout.on('close', () => readable.emit('close'));
  const writable = {
    write(bytes) {
      readToRust(bytes);
      return child.stdin.write(bytes);
    },
    end() { child.stdin.end(); },
    on(event, listener) { child.stdin.on(event, listener); return this; },
  };
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, transport: { readable, writable }, toRust, fromRust, chunksToRust, chunksFromRust, exited, stderr: () => stderr };
}

/**
 * Starts a session. options: { isolation (generator mode), allowedOrigins, bridgeOptions }.
 */
async function startSession(options = {}) {
  const bindings = generate(options.isolation ? { isolation: options.isolation } : {});
  const { createBridge } = require(bindings.path('bridge.js'));
  const preloadSource = bindings.read('preload.js');
  const rust = tappedRustMain();
  const ipcMain = new FakeIpcMain();
  const errors = [];
  const dispose = createBridge({
    ipcMain,
    transport: rust.transport,
    allowedOrigins: options.allowedOrigins || ['app://todos'],
    onError: (error) => errors.push(error),
    ...options.bridgeOptions,
  });
  await dispose.ready;
  const windows = [];
  const session = {
    bindings,
    rust,
    ipcMain,
    dispose,
    errors,
    windows,
    /** Opens a window; options as createWindow's (contextIsolated, executeInMainWorld, url, origin). */
    open(windowOptions = {}) {
      const window = createWindow({ ipcMain, preloadSource, ...windowOptions });
      windows.push(window);
      return window;
    },
    async close() {
      dispose();
      await Promise.race([rust.exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (rust.child.exitCode === null) rust.child.kill();
    },
  };
  return session;
}

module.exports = { startSession, tappedRustMain, frameReader, frameBytes };
