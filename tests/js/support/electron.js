'use strict';
// A model of the parts of Electron the generated preload and bridge use, faithful where it
// matters for them:
//
// - Two V8 contexts per window (node:vm): the page's world and the preload's isolated world
//   (one shared context when context isolation is off).
// - contextBridge copies values between worlds as Electron does
//   (shell/renderer/api/electron_api_context_bridge.cc): primitives pass; every function that
//   crosses becomes a NEW proxy function in the other world (no identity is preserved); promises
//   become new promises of the other world; an Error becomes a plain `Error` of the other world
//   with only its message; arrays and "plain" objects (Electron's IsPlainObject: any object but
//   Date, RegExp, Map, Set, ArrayBuffer, typed arrays, boxed primitives and a few more builtins)
//   are copied through their own enumerable properties (so an AbortSignal or a class instance
//   arrives as a plain object), and copies are frozen; the builtins Electron does not copy are
//   structured-cloned instead, and what cannot be cloned (a symbol, a WeakMap) throws; a cycle
//   throws when the copy goes too deep. exposeInMainWorld
//   defines the copied API on the page's window; executeInMainWorld (Electron 35+) evaluates the
//   function's source in the page's world with copied arguments, and can be left out to model
//   older Electron.
// - ipcRenderer/ipcMain: structured-clone copies, asynchronous delivery in the order the frame
//   made its invokes and sends (one queue, as Electron's one IPC pipe per frame), `invoke` rejecting with
//   Electron's own messages ("No handler registered for ..."), events carrying an Electron event
//   object as their first argument, `event.senderFrame` with the frame's url and origin.
// - ipcRenderer.sendSync blocks this thread until the main process answers: with the main
//   process in a worker thread (support/processes.js), as in Electron.
// - `window.enterSubframe(url, origin)`: the page's IPC comes from an iframe (a frame that is not
//   `webContents.mainFrame`) until `enterSubframe(null)`.
// - `window.addSubframe(url, origin)`: an iframe with a preload of its own
//   (nodeIntegrationInSubFrames): its own worlds and ipcRenderer, its IPC from its own frame (a
//   WebFrameMain with `processId`, `routingId` and a `send` that reaches that frame alone).
// - webContents.mainFrame: the window's current main frame (the frame `webContents.send`
//   delivers to); `window.navigate(url, origin)` moves the window to another page, as a link or
//   `location.href = ...` in the page would (the preload runs again in the new page in Electron;
//   here the same worlds stay, which is what lets a test see what would reach the new page);
//   `window.reload(url?, origin?)` loads a page for real: new worlds, and the preload runs again.
//   `origin: null` models Electron before WebFrameMain#origin (no origin at all).

const { EventEmitter } = require('node:events');
const util = require('node:util');
const vm = require('node:vm');

class World {
  constructor(name) {
    this.name = name;
    this.context = vm.createContext({
      console,
      setTimeout,
      clearTimeout,
      queueMicrotask,
      AbortController,
      AbortSignal,
    });
    this.global = vm.runInContext('globalThis', this.context);
    // Chromium 134 and later (Electron 35 and later) have the symbols of explicit resource
    // management (`using`); Node 20 gives them to its own context only.
    for (const name of ['dispose', 'asyncDispose']) {
      if (typeof Symbol[name] !== 'symbol') continue;
      const define = vm.runInContext(`(symbol) => Object.defineProperty(Symbol, '${name}', { value: symbol })`, this.context);
      define(Symbol[name]);
    }
    this.proxyFactory = vm.runInContext(
      '(function (call) { return function () { return call(this, Array.prototype.slice.call(arguments)); }; })',
      this.context,
    );
  }

  run(code, filename) {
    return vm.runInContext(code, this.context, { filename });
  }
}

const MAX_DEPTH = 1000;
const SYNC_PATIENCE_MS = 10000;

// The objects electron_api_context_bridge.cc's IsPlainObject refuses: they are serialized
// (structured clone) rather than copied property by property.
function isElectronPlain(value) {
  const t = util.types;
  return !(t.isDate(value) || t.isRegExp(value) || t.isMap(value) || t.isSet(value)
    || t.isMapIterator(value) || t.isSetIterator(value) || t.isWeakMap(value) || t.isWeakSet(value)
    || t.isAnyArrayBuffer(value) || t.isArrayBufferView(value) || t.isBoxedPrimitive(value)
    || t.isProxy(value) || t.isGeneratorObject(value) || t.isModuleNamespaceObject(value)
    || t.isArgumentsObject(value));
}

/** Copies `value` from world `from` into world `to` as contextBridge does. */
function pass(value, from, to, depth = 0) {
  if (depth > MAX_DEPTH) throw new to.global.TypeError('Electron contextBridge recursion depth exceeded.');
  if (typeof value === 'symbol') throw new from.global.Error(`${String(value)} could not be cloned.`);
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (typeof value === 'function') {
    // A new proxy on every crossing.
    return to.proxyFactory((_this, args) => {
      const copied = args.map((arg) => pass(arg, to, from, depth + 1));
      let result;
      try {
        result = value(...copied);
      } catch (error) {
        throw pass(error, from, to, depth + 1);
      }
      return pass(result, from, to, depth + 1);
    });
  }
  if (util.types.isPromise(value)) {
    return new to.global.Promise((resolve, reject) => {
      value.then(
        (result) => resolve(pass(result, from, to, depth + 1)),
        (error) => reject(pass(error, from, to, depth + 1)),
      );
    });
  }
  if (util.types.isNativeError(value)) {
    return new to.global.Error(typeof value.message === 'string' ? value.message : String(value));
  }
  if (Array.isArray(value)) {
    const copy = new to.global.Array();
    for (const item of value) copy.push(pass(item, from, to, depth + 1));
    return to.global.Object.freeze(copy);
  }
  if (!isElectronPlain(value)) {
    // Cloned in this (Node's) realm: a third world for the page and the preload alike.
    try {
      return structuredClone(value);
    } catch (error) {
      throw new from.global.Error(error.message);
    }
  }
  const copy = new to.global.Object();
  for (const key of Object.keys(value)) copy[key] = pass(value[key], from, to, depth + 1);
  return to.global.Object.freeze(copy);
}

function clone(value) {
  try {
    return structuredClone(value);
  } catch (_) {
    throw new Error('An object could not be cloned.');
  }
}

class FakeIpcMain extends EventEmitter {
  constructor() {
    super();
    this.handlers = new Map();
    /** Every message that reached the main process: { kind, channel, args }. */
    this.received = [];
  }

  handle(channel, handler) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel) {
    this.handlers.delete(channel);
  }
}

class FakeIpcRenderer extends EventEmitter {
  /** `frame`: the subframe this renderer is the page of (null: the window's main frame). */
  constructor(ipcMain, window, frame = null) {
    super();
    this._ipcMain = ipcMain;
    this._window = window;
    this._frame = frame;
    this._queue = [];
    this._scheduled = false;
  }

  _mainEvent() {
    const window = this._window;
    const frame = this._frame;
    return {
      sender: window.webContents,
      get senderFrame() { return frame || window.subframe || window.frame; },
      processId: 1,
      frameId: frame === null ? 1 : frame.routingId,
    };
  }

  // Electron delivers one frame's messages (invokes and sends alike) to the main process in the
  // order they were made: one queue for both.
  _post(task) {
    this._queue.push(task);
    if (this._scheduled) return;
    this._scheduled = true;
    setImmediate(() => {
      this._scheduled = false;
      for (const next of this._queue.splice(0)) next();
    });
  }

  invoke(channel, ...args) {
    const copied = clone(args);
    return new Promise((resolve, reject) => this._post(() => {
      this._ipcMain.received.push({ kind: 'invoke', channel, args: copied });
      const handler = this._ipcMain.handlers.get(channel);
      if (handler === undefined) {
        reject(new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`));
        return;
      }
      let result;
      try {
        result = handler(this._mainEvent(), ...copied);
      } catch (error) {
        reject(new Error(`Error invoking remote method '${channel}': ${error}`));
        return;
      }
      Promise.resolve(result).then(
        (value) => resolve(clone(value)),
        (error) => reject(new Error(`Error invoking remote method '${channel}': ${error}`)),
      );
    }));
  }

  // Electron's sendSync: this thread is blocked until the main process sets
  // `event.returnValue`. Only the two-thread model (support/processes.js) has a main process
  // that can answer meanwhile; a bridge that never answers fails the test after SYNC_PATIENCE_MS
  // instead of hanging it.
  sendSync(channel, ...args) {
    const copied = clone(args);
    if (typeof this._ipcMain.sendSync !== 'function') {
      throw new Error('sendSync needs a main process in another thread (support/processes.js)');
    }
    // One pipe per frame: what the page sent before goes first.
    for (const next of this._queue.splice(0)) next();
    this._ipcMain.received.push({ kind: 'sendSync', channel, args: copied });
    return clone(this._ipcMain.sendSync(channel, this._mainEvent(), copied, SYNC_PATIENCE_MS));
  }

  send(channel, ...args) {
    const copied = clone(args);
    this._post(() => {
      this._ipcMain.received.push({ kind: 'send', channel, args: copied });
      this._ipcMain.emit(channel, this._mainEvent(), ...copied);
    });
  }
}

class FakeWebContents extends EventEmitter {
  constructor(id, ipcRenderer, window) {
    super();
    this.id = id;
    this._ipcRenderer = ipcRenderer;
    this._window = window;
    this._destroyed = false;
    /** Every message sent to this window: { channel, args }. */
    this.sent = [];
  }

  send(channel, ...args) {
    if (this._destroyed) throw new Error('Object has been destroyed');
    const copied = clone(args);
    this.sent.push({ channel, args: copied });
    // To the page loaded now: a page loaded later does not get it.
    const renderer = this._ipcRenderer;
    setImmediate(() => {
      if (this._destroyed) return;
      renderer.emit(channel, { sender: renderer, ports: [] }, ...copied);
    });
  }

  /** The window's current main frame (null once destroyed). */
  get mainFrame() {
    return this._destroyed ? null : this._window.frame;
  }

  isDestroyed() {
    return this._destroyed;
  }

  destroy() {
    this._destroyed = true;
    this.emit('destroyed');
  }
}

let nextWebContentsId = 1;
let nextRoutingId = 2; // the main frames' is 1

/**
 * A browser window running `preloadSource`.
 *
 * options: { ipcMain, preloadSource, contextIsolated, executeInMainWorld (default true), url,
 *            origin }
 */
function createWindow(options) {
  const contextIsolated = options.contextIsolated !== false;
  const window = {
    contextIsolated,
    frame: {
      url: options.url === undefined ? 'app://todos/index.html' : options.url,
      origin: options.origin === undefined ? 'app://todos' : options.origin,
    },
  };
  window.webContents = new FakeWebContents(nextWebContentsId++, null, window);
  /** The window's main frame navigates: a new frame with this URL and origin. */
  window.navigate = (url, origin) => {
    window.frame = { url, origin };
  };
  /** The page's calls come from an iframe of it (url, origin) until `subframe(null)`. */
  window.enterSubframe = (url, origin) => {
    window.subframe = url === null ? null : { url, origin };
  };

  // Loads a page into `target` (the window, or one of its subframes: `subframe` is then its
  // frame): fresh worlds and a fresh ipcRenderer, and the preload runs in them.
  function load(target = window, subframe = null) {
    const frame = subframe || window.frame;
    const page = new World('page');
    const preload = contextIsolated ? new World('preload') : page;
    // Both worlds see the page's location, as in Electron (the isolated world shares the DOM).
    for (const world of new Set([page, preload])) {
      world.run(`globalThis.location = Object.freeze({ href: ${JSON.stringify(String(frame.url))}, origin: ${JSON.stringify(frame.origin === null ? 'null' : String(frame.origin))} });`, 'location.js');
    }
    target.page = page;
    target.preload = preload;
    target.ipcRenderer = new FakeIpcRenderer(options.ipcMain, window, subframe);
    if (subframe === null) window.webContents._ipcRenderer = window.ipcRenderer;
    const contextBridge = {
      exposeInMainWorld(key, api) {
        if (!contextIsolated) throw new Error('contextBridge API can only be used when contextIsolation is enabled');
        const copy = pass(api, preload, page);
        Object.defineProperty(page.global, key, { value: copy, enumerable: true, writable: false, configurable: false });
      },
    };
    if (options.executeInMainWorld !== false) {
      contextBridge.executeInMainWorld = ({ func, args = [] }) => {
        if (!contextIsolated) throw new Error('contextBridge API can only be used when contextIsolation is enabled');
        const inPage = page.run(`(${func.toString()})`, 'executeInMainWorld.js');
        const copied = args.map((arg) => pass(arg, preload, page));
        return pass(inPage(...copied), page, preload);
      };
    }
    const electron = { contextBridge, ipcRenderer: target.ipcRenderer };
    const module = { exports: {} };
    const wrapper = preload.run(
      `(function (exports, require, module, process) {\n${options.preloadSource}\n})`,
      'preload.js',
    );
    const sandboxedRequire = (name) => {
      if (name === 'electron') return electron;
      throw new Error(`module not found: ${name} (sandboxed preloads can only require electron)`);
    };
    // The window's main frame; a subframe's with nodeIntegrationInSubFrames (`addSubframe`).
    wrapper(module.exports, sandboxedRequire, module, { contextIsolated, isMainFrame: subframe === null });
  }
  load();

  /**
   * An iframe of the window's page with a preload of its own (Electron's
   * nodeIntegrationInSubFrames): its own worlds and ipcRenderer, its IPC coming from its own frame
   * (a WebFrameMain with a processId and routingId, whose `send` reaches this frame alone).
   * Returns { frame, page, preload, ipcRenderer, evaluate(code), navigate(url, origin), reload(),
 * swapProcess(), remove() }.
   */
  const subframes = [];
  window.addSubframe = (url, origin) => {
    const holder = {};
    let removed = false;
    const disposed = () => new Error('Render frame was disposed before WebFrameMain could be accessed');
    const frame = {
      get url() {
        if (removed) throw disposed();
        return url;
      },
      get origin() {
        if (removed) throw disposed();
        return origin;
      },
      frameTreeNodeId: nextRoutingId,
      processId: 1,
      routingId: nextRoutingId++,
      // Electron's WebFrameMain#send logs and drops a message for a frame that is gone.
      /** Every message sent to this frame: { channel, args }. */
      sent: [],
      send(channel, ...args) {
        if (removed || window.webContents._destroyed) return;
        const copied = clone(args);
        frame.sent.push({ channel, args: copied });
        // To the page loaded in the frame now.
        const renderer = holder.ipcRenderer;
        setImmediate(() => renderer.emit(channel, { sender: renderer, ports: [] }, ...copied));
      },
    };
    holder.frame = frame;
    holder.evaluate = (code) => holder.page.run(code, 'subframe.js');
    /** The iframe is removed from the page: its WebFrameMain is disposed (throws on access). */
    holder.remove = () => {
      removed = true;
      holder.ipcRenderer.removeAllListeners();
    };
    /** The subframe loads its page again: new worlds, and its preload runs again. */
    holder.reload = () => {
      holder.ipcRenderer.removeAllListeners();
      load(holder, frame);
    };
    /** The subframe's frame now shows `url` of `origin` (its worlds stay, as `window.navigate`). */
    holder.navigate = (newUrl, newOrigin) => {
      url = newUrl;
      origin = newOrigin;
    };
    /**
     * The subframe loads a page in another process: the same WebFrameMain (its frameTreeNodeId)
     * with a new processId and routingId, and the new page's preload runs.
     */
    holder.swapProcess = () => {
      frame.processId += 1;
      frame.routingId = nextRoutingId++;
      holder.reload();
    };
    load(holder, frame);
    subframes.push(holder);
    return holder;
  };
  /**
   * The window loads a page again (a reload, or a navigation to `url`/`origin`): new worlds, a
   * new ipcRenderer, and the preload runs again; the old page hears nothing more.
   */
  window.reload = (url, origin) => {
    if (url !== undefined) window.navigate(url, origin);
    window.ipcRenderer.removeAllListeners();
    // The old page's iframes go with it.
    for (const subframe of subframes.splice(0)) subframe.remove();
    load();
  };

  /** Evaluates code in the page's world. */
  window.evaluate = (code) => window.page.run(code, 'page.js');
  return window;
}

module.exports = { createWindow, FakeIpcMain, pass, World };
