{{HEADER}}//
// Electron preload exposing `window.{{KEY}}`. One self-contained CommonJS file that requires only
// `electron`, so it runs as a sandboxed preload. The page never sees `ipcRenderer` or an IPC
// event object: it gets one function per declared channel, whose arguments are checked here
// before anything crosses.
//
// Isolation (generated as "{{ISOLATION}}"; "auto" reads `process.contextIsolated`):
// - context isolation on, Electron 35 or later: the API object is built in the page's world with
//   `contextBridge.executeInMainWorld`, over the checked operations of this preload (`core`), so
//   errors are real `IpcAppError`/`IpcFrameworkError` objects and `AbortSignal`s work;
// - context isolation on, older Electron: `contextBridge.exposeInMainWorld(key, api)`; errors
//   arrive as plain frozen objects with the same fields (contextBridge keeps only the message of
//   an `Error`) and `options.signal` is refused (an `AbortSignal` cannot cross); use `timeoutMs`;
// - context isolation off: a frozen, non-writable `window.{{KEY}}` is defined directly.
//
{{PROTOCOL}}
'use strict';

const { contextBridge, ipcRenderer } = require('electron');

const API_KEY = {{KEY_JS}};
const ISOLATION = {{ISOLATION_JS}};
const CANCEL_CHANNEL = {{CANCEL_JS}};
const LAG_CHANNEL = {{LAG_JS}};
// One entry per declared channel: namespace property (null with one service), JavaScript name,
// kind, wire channel, and [name, check] per positional parameter.
const METHODS = {{METHODS}};

{{CHECKS}}

function methodAt(index, kind) {
  const m = typeof index === 'number' ? METHODS[index] : undefined;
  return m !== undefined && m.kind === kind ? m : null;
}

function labelOf(m) {
  return m.ns === null ? `${API_KEY}.${m.name}` : `${API_KEY}.${m.ns}.${m.name}`;
}

function isCount(value) {
  return typeof value === 'number' && isInteger(value) && value >= 0;
}

// The reply envelope as the bridge sent it, rebuilt as a fresh object with exactly one field.
function envelopeOf(channel, value) {
  if (value !== null && typeof value === 'object') {
    if (Object.prototype.hasOwnProperty.call(value, 'ok')) return { ok: value.ok };
    if (Object.prototype.hasOwnProperty.call(value, 'app')) return { app: value.app };
    if (value.error !== null && typeof value.error === 'object') return { error: value.error };
  }
  return { error: { code: 'protocol', message: `${channel}: malformed reply from the bridge`, channel, reason: 'malformed reply' } };
}

// `ipcRenderer.invoke` rejects only when the bridge never answered (no handler registered in the
// main process, or arguments that cannot be cloned).
function rejectionOf(channel, cause) {
  const text = cause && typeof cause.message === 'string' ? cause.message : String(cause);
  let code = 'disconnected';
  if (text.indexOf('No handler registered') >= 0) code = 'no_handler';
  else if (text.indexOf('could not be cloned') >= 0) code = 'bad_arguments';
  return { error: { code, message: `${channel}: ${text}`, channel, reason: text } };
}

let lastCallId = 0;

// channel -> Set of onLag functions of the subscriptions to it. One listener on LAG_CHANNEL
// serves them all, and only while there is a subscription.
const lagListeners = new Map();

function onLagNotice(_event, channel, missed) {
  const set = lagListeners.get(channel);
  if (set === undefined || !isCount(missed)) return;
  for (const onLag of Array.from(set)) {
    try {
      onLag(missed);
    } catch (error) {
      console.error(`${channel}: onLag failed:`, error);
    }
  }
}

function watchLag(channel, onLag) {
  if (lagListeners.size === 0) ipcRenderer.on(LAG_CHANNEL, onLagNotice);
  let set = lagListeners.get(channel);
  if (set === undefined) {
    set = new Set();
    lagListeners.set(channel, set);
  }
  // A wrapper per subscription, so that one function given twice is removed once per disposal.
  const entry = (missed) => onLag(missed);
  set.add(entry);
  return () => {
    set.delete(entry);
    if (set.size === 0 && lagListeners.get(channel) === set) lagListeners.delete(channel);
    if (lagListeners.size === 0) ipcRenderer.removeListener(LAG_CHANNEL, onLagNotice);
  };
}

// The checked operations. Every entry point validates its input again: with context isolation
// these functions are reached through contextBridge proxies.
const core = {
  invoke(index, args, timeoutMs) {
    const m = methodAt(index, 'invoke');
    if (m === null) return { typeError: `${API_KEY}: no such method` };
    const problem = argumentsProblem(labelOf(m), m.params, args);
    if (problem !== null) return { typeError: problem };
    if (timeoutMs !== null && !isCount(timeoutMs)) {
      return { typeError: `${labelOf(m)}: timeoutMs must be a non-negative integer` };
    }
    const id = ++lastCallId;
    let promise;
    try {
      promise = ipcRenderer.invoke(m.channel, id, timeoutMs, ...args)
        .then((value) => envelopeOf(m.channel, value), (cause) => rejectionOf(m.channel, cause));
    } catch (cause) {
      promise = Promise.resolve(rejectionOf(m.channel, cause));
    }
    return { id, promise };
  },
  cancel(id) {
    if (isCount(id) && id > 0 && id <= lastCallId) ipcRenderer.send(CANCEL_CHANNEL, id);
  },
  send(index, args) {
    const m = methodAt(index, 'send');
    if (m === null) return `${API_KEY}: no such method`;
    const problem = argumentsProblem(labelOf(m), m.params, args);
    if (problem !== null) return problem;
    ipcRenderer.send(m.channel, ...args);
    return null;
  },
  subscribe(index, listener, onLag) {
    const m = methodAt(index, 'event');
    if (m === null) return { typeError: `${API_KEY}: no such event` };
    if (typeof listener !== 'function' || typeof onLag !== 'function') {
      return { typeError: `${labelOf(m)} expects a listener function and an onLag function` };
    }
    // The Electron event object stays here: the listener gets the event's parameters only.
    const handler = (_event, ...payload) => {
      try {
        listener(...payload);
      } catch (error) {
        console.error(`${labelOf(m)} listener failed:`, error);
      }
    };
    ipcRenderer.on(m.channel, handler);
    const unwatchLag = watchLag(m.channel, onLag);
    let active = true;
    return {
      dispose() {
        if (!active) return;
        active = false;
        ipcRenderer.removeListener(m.channel, handler);
        unwatchLag();
      },
    };
  },
};
Object.freeze(core);

{{API}}

const isolated = ISOLATION === 'isolated' || (ISOLATION === 'auto' && process.contextIsolated === true);
if (!isolated) {
  buildApi(core, METHODS, { key: API_KEY, define: true, plainErrors: false });
} else if (typeof contextBridge.executeInMainWorld === 'function') {
  contextBridge.executeInMainWorld({
    func: buildApi,
    args: [core, METHODS, { key: API_KEY, define: true, plainErrors: false }],
  });
} else {
  contextBridge.exposeInMainWorld(API_KEY, buildApi(core, METHODS, { key: API_KEY, define: false, plainErrors: true }));
}
