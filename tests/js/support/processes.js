'use strict';
// Electron's main process and a renderer process as two threads, for what one thread cannot
// model: `ipcRenderer.sendSync` blocks the renderer while the main process goes on working.
//
// - The main process is a worker thread: the generated bridge.js on a FakeIpcMain, talking to a
//   real Rust main child (the examples' Todos contract over stdio, as in session.js).
// - The renderer process is this thread: windows from electron.js (two worlds, the generated
//   preload), whose ipcRenderer reaches the worker through a `RemoteIpcMain`. invoke and send
//   are messages on the worker's port, in the order the page made them; sendSync posts on the
//   same port and then really blocks this thread (Atomics.wait) until the bridge sets
//   `event.returnValue`, whose value comes back on a port of its own
//   (receiveMessageOnPort).
// - Windows are addressed by webContents id: the worker's webContents stand-ins forward
//   `send` to this thread, which delivers it to the window, as Electron's webContents.send.

const { EventEmitter } = require('node:events');
const {
  Worker, MessageChannel, receiveMessageOnPort, isMainThread, parentPort, workerData,
} = require('node:worker_threads');

// --------------------------------------------------------------------------------------------
// The main process (worker thread).

function mainProcess() {
  const { createBridge } = require(workerData.bridgePath);
  const { tappedRustMain } = require('./session');
  const { FakeIpcMain } = require('./electron');
  const { syncPort, flag } = workerData;
  const signal = new Int32Array(flag);
  const rust = tappedRustMain();
  const ipcMain = new FakeIpcMain();
  const errors = [];
  const contents = new Map();

  // One webContents stand-in per window, with its main frame as one object (the bridge tells a
  // main frame by identity); a navigation gives a new frame object.
  function contentsOf(window) {
    let c = contents.get(window.id);
    if (c === undefined) {
      c = new EventEmitter();
      c.id = window.id;
      c.destroyed = false;
      c.isDestroyed = () => c.destroyed;
      c.send = (channel, ...args) => {
        if (c.destroyed) throw new Error('Object has been destroyed');
        parentPort.postMessage({ t: 'toWindow', id: c.id, channel, args });
      };
      contents.set(window.id, c);
    }
    if (!c.mainFrame || c.mainFrame.url !== window.url || c.mainFrame.origin !== window.origin) {
      c.mainFrame = { url: window.url, origin: window.origin };
    }
    return c;
  }

  function eventOf(window) {
    const sender = contentsOf(window);
    return { sender, senderFrame: sender.mainFrame, processId: 1, frameId: 1 };
  }

  // Each answer names the request it answers, so a late answer to a request the renderer gave up
  // on is never read as the answer to a later one.
  function answerSync(seq, value) {
    syncPort.postMessage({ seq, ...value });
    Atomics.store(signal, 0, seq);
    Atomics.notify(signal, 0);
  }

  const dispose = createBridge({
    ipcMain,
    transport: rust.transport,
    allowedOrigins: workerData.allowedOrigins,
    onError: (error) => errors.push(String(error && error.message)),
  });
  dispose.ready.then(
    () => parentPort.postMessage({ t: 'ready' }),
    (error) => parentPort.postMessage({ t: 'failed', message: String(error && error.message) }),
  );

  parentPort.on('message', (m) => {
    switch (m.t) {
      case 'invoke': {
        const handler = ipcMain.handlers.get(m.channel);
        const reply = (fields) => parentPort.postMessage({ t: 'reply', call: m.call, ...fields });
        if (handler === undefined) {
          reply({ error: `Error invoking remote method '${m.channel}': Error: No handler registered for '${m.channel}'` });
          break;
        }
        // The handler runs now, in the order the page's messages came (as a sendSync after it).
        let result;
        try {
          result = handler(eventOf(m.window), ...m.args);
        } catch (error) {
          reply({ error: `Error invoking remote method '${m.channel}': ${error}` });
          break;
        }
        Promise.resolve(result)
          .then((value) => reply({ value }), (error) => reply({ error: `Error invoking remote method '${m.channel}': ${error}` }));
        break;
      }
      case 'send':
        ipcMain.emit(m.channel, eventOf(m.window), ...m.args);
        break;
      case 'sendSync': {
        // Electron answers the renderer when `returnValue` is first set. With no listener it
        // never answers (the renderer hangs: here, until the renderer's patience runs out).
        let answered = false;
        const event = eventOf(m.window);
        Object.defineProperty(event, 'returnValue', {
          set(value) {
            if (answered) {
              errors.push(`returnValue set twice for a sendSync on ${m.channel}`);
              return;
            }
            answered = true;
            try {
              answerSync(m.seq, { value });
            } catch (error) {
              answerSync(m.seq, { error: String(error && error.message) });
            }
          },
        });
        ipcMain.emit(m.channel, event, ...m.args);
        break;
      }
      case 'dispose':
        dispose();
        parentPort.postMessage({ t: 'disposed' });
        break;
      case 'destroy': {
        const c = contents.get(m.id);
        if (c !== undefined && !c.destroyed) {
          c.destroyed = true;
          c.emit('destroyed');
        }
        break;
      }
      case 'pause':
        // The Rust main stops (SIGSTOP): it neither reads nor answers until `resume`.
        rust.child.kill(m.stop ? 'SIGSTOP' : 'SIGCONT');
        parentPort.postMessage({ t: 'paused', stop: m.stop });
        break;
      case 'look':
        parentPort.postMessage({ t: 'look', look: m.look, toRust: rust.toRust, errors });
        break;
      case 'close':
        dispose();
        Promise.race([rust.exited, new Promise((resolve) => setTimeout(resolve, 3000))]).then(() => {
          if (rust.child.exitCode === null) rust.child.kill('SIGKILL');
          parentPort.postMessage({ t: 'closed' });
        });
        break;
      default:
        break;
    }
  });
}

// --------------------------------------------------------------------------------------------
// The renderer process (this thread).

/** What electron.js's FakeIpcRenderer needs of ipcMain, across the thread boundary. */
class RemoteIpcMain {
  constructor(worker, syncPort, flag) {
    this._worker = worker;
    this._syncPort = syncPort;
    this._signal = new Int32Array(flag);
    this._calls = new Map();
    this._nextCall = 0;
    this._nextSync = 0;
    /** Every message that left for the main process: { kind, channel, args }. */
    this.received = [];
    const remote = this;
    // FakeIpcRenderer.invoke looks its handler up by channel: every channel has one here, the
    // worker's answer says whether the bridge registered it.
    this.handlers = {
      get(channel) {
        return (event, ...args) => new Promise((resolve, reject) => {
          const call = ++remote._nextCall;
          remote._calls.set(call, { resolve, reject });
          remote._worker.postMessage({ t: 'invoke', call, channel, args, window: windowOf(event) });
        });
      },
    };
  }

  emit(channel, event, ...args) {
    this._worker.postMessage({ t: 'send', channel, args, window: windowOf(event) });
  }

  /** Blocks this thread until the bridge answers (or `patienceMs` passes: then it throws). */
  sendSync(channel, event, args, patienceMs) {
    const seq = ++this._nextSync;
    this._worker.postMessage({ t: 'sendSync', seq, channel, args, window: windowOf(event) });
    const until = Date.now() + patienceMs;
    for (;;) {
      // Read before the port: an answer that comes after it changes the signal, so the wait
      // below returns at once.
      const seen = Atomics.load(this._signal, 0);
      // Answers to earlier requests this renderer gave up on are read and dropped.
      for (let next = receiveMessageOnPort(this._syncPort); next !== undefined; next = receiveMessageOnPort(this._syncPort)) {
        if (next.message.seq !== seq) continue;
        if (next.message.error !== undefined) throw new Error(next.message.error);
        return next.message.value;
      }
      const left = until - Date.now();
      if (left <= 0) throw new Error(`the main process did not answer sendSync('${channel}') within ${patienceMs} ms`);
      Atomics.wait(this._signal, 0, seen, left);
    }
  }

  _onReply(m) {
    const call = this._calls.get(m.call);
    if (call === undefined) return;
    this._calls.delete(m.call);
    if (m.error !== undefined) call.reject(new Error(m.error));
    else call.resolve(m.value);
  }
}

function windowOf(event) {
  const frame = event.senderFrame;
  return { id: event.sender.id, url: frame.url, origin: frame.origin };
}

/**
 * Starts the main process (a worker with the bridge and a real Rust main). options:
 * { allowedOrigins }. Returns { open(windowOptions), look(), pause(stop), close() }.
 */
async function startProcesses(options = {}) {
  const { generate } = require('./setup');
  const { createWindow } = require('./electron');
  const bindings = generate();
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(__filename, {
    workerData: {
      bridgePath: bindings.path('bridge.js'),
      allowedOrigins: options.allowedOrigins || ['app://todos'],
      syncPort: port2,
      flag,
    },
    transferList: [port2],
  });
  const ipcMain = new RemoteIpcMain(worker, port1, flag);
  const windows = new Map();
  const waiting = new Map();
  const expect = (t) => new Promise((resolve) => waiting.set(t, resolve));
  worker.on('message', (m) => {
    if (m.t === 'reply') {
      ipcMain._onReply(m);
    } else if (m.t === 'toWindow') {
      const window = windows.get(m.id);
      if (window !== undefined && !window.webContents.isDestroyed()) window.webContents.send(m.channel, ...m.args);
    } else if (waiting.has(m.t)) {
      const resolve = waiting.get(m.t);
      waiting.delete(m.t);
      resolve(m);
    }
  });
  const ready = await Promise.race([expect('ready'), expect('failed')]);
  if (ready.t === 'failed') throw new Error(`the bridge did not start: ${ready.message}`);
  const preloadSource = bindings.read('preload.js');
  return {
    ipcMain,
    /** Opens a window in this (renderer) thread; options as createWindow's. */
    open(windowOptions = {}) {
      const window = createWindow({ ipcMain, preloadSource, ...windowOptions });
      windows.set(window.webContents.id, window);
      window.webContents.once('destroyed', () => worker.postMessage({ t: 'destroy', id: window.webContents.id }));
      return window;
    },
    /** The frames that reached the Rust main so far, and the bridge's reported errors. */
    async look() {
      const seen = expect('look');
      worker.postMessage({ t: 'look' });
      return seen;
    },
    /** Disposes of the bridge (the Rust main and the windows stay). */
    async dispose() {
      const done = expect('disposed');
      worker.postMessage({ t: 'dispose' });
      await done;
    },
    /** Stops (SIGSTOP) or resumes (SIGCONT) the Rust main process. */
    async pause(stop) {
      const done = expect('paused');
      worker.postMessage({ t: 'pause', stop });
      await done;
    },
    async close() {
      const closed = expect('closed');
      worker.postMessage({ t: 'close' });
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
      await worker.terminate();
    },
  };
}

if (!isMainThread && workerData && workerData.bridgePath) mainProcess();

module.exports = { startProcesses };
