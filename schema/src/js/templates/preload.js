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
const FRAME_CHANNEL = {{FRAME_JS}};
// One entry per declared channel: namespace property (null with one service), JavaScript name,
// kind, wire channel, and [name, check] per positional parameter.
const METHODS = {{METHODS}};
// By namespace: the capability contracts whose handles reach the page, with their methods.
const CAPABILITIES = {{CAPABILITIES}};

{{CHECKS}}

{{POLICY}}

{{PORTS}}

// What this page may see: methods whose policy cannot admit it (another origin, a subframe, a
// kind of renderer it is not) are left out of the API, and the preload refuses them too. The
// bridge and the Rust main check every call again.
const PAGE = {
  kind: 'window',
  origin: typeof location === 'object' && location !== null && typeof location.origin === 'string' ? location.origin : undefined,
  mainFrame: typeof process === 'object' && process !== null && process.isMainFrame === false ? false : true,
};
const HIDDEN = hiddenMethods(METHODS, PAGE);

function methodAt(index, kind) {
  const m = typeof index === 'number' && !HIDDEN[index] ? METHODS[index] : undefined;
  return m !== undefined && m.kind === kind ? m : null;
}

function labelOf(m) {
  return m.ns === null ? `${API_KEY}.${m.name}` : `${API_KEY}.${m.ns}.${m.name}`;
}

function isCount(value) {
  return typeof value === 'number' && isInteger(value) && value >= 0;
}

// The reply envelope as the bridge sent it, rebuilt as a fresh object with exactly one field
// (and the ports the reply transfers, if any).
function envelopeOf(channel, value) {
  if (value !== null && typeof value === 'object') {
    const transferred = Array.isArray(value.ports) ? value.ports.filter(isPortId) : [];
    const withPorts = (envelope) => (transferred.length > 0 ? Object.assign(envelope, { ports: transferred }) : envelope);
    if (Object.prototype.hasOwnProperty.call(value, 'ok')) return withPorts({ ok: value.ok });
    if (Object.prototype.hasOwnProperty.call(value, 'app')) return withPorts({ app: value.app });
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

// This window's ends of ports and streams, and its answers to main's requests. The bridge routes
// their frames (FRAME_CHANNEL) between this window and the Rust main, and checks the wire.
const ports = portTable({
  strict: false,
  send(frame) {
    ipcRenderer.send(FRAME_CHANNEL, frame);
    return null;
  },
  problem() {},
  // The bridge's `open` frame brings main's port_window as the first credit.
  initialCredit: () => 0,
  maxOwnPorts: () => MAX_PORTS,
});
const requests = requestTable({
  methods: METHODS,
  strict: false,
  ports,
  problem() {},
  reply(frame) {
    ipcRenderer.send(FRAME_CHANNEL, frame);
    return null;
  },
});

// channel -> Set of the subscriptions' deliver(args, ports), for events that transfer ports
// (the bridge sends those on FRAME_CHANNEL, with their `ports`).
const portEvents = new Map();

function deliverEvent(frame) {
  const accepted = ports.accept(frame.ports);
  const ids = accepted.ids || [];
  const set = portEvents.get(frame.ch);
  if (set === undefined || set.size === 0 || !Array.isArray(frame.args)) {
    ports.release(ids);
    return;
  }
  // A port has one owner: the first subscription gets the ports, the others the references.
  let first = true;
  for (const deliver of Array.from(set)) {
    try {
      deliver(frame.args, first ? ids : []);
    } catch (error) {
      console.error(`${frame.ch} listener failed:`, error);
    }
    first = false;
  }
}

ipcRenderer.on(FRAME_CHANNEL, (_event, frame) => {
  if (frame === null || typeof frame !== 'object') return;
  switch (frame.t) {
    case 'open':
    case 'port':
    case 'credit':
    case 'close':
      ports.receive(frame);
      break;
    case 'invoke':
    case 'cancel':
      requests.receive(frame);
      break;
    case 'event':
      if (typeof frame.ch === 'string') deliverEvent(frame);
      break;
    default:
      break;
  }
});
// A new page of this window: the bridge closes whatever an earlier page left open (its ports,
// main's requests to it), before anything of this page reaches it.
ipcRenderer.send(FRAME_CHANNEL, { t: 'reset' });

function portsProblem(m, args, transfer) {
  const fresh = [];
  if (transfer !== null && transfer !== undefined) {
    if (!Array.isArray(transfer)) return `${labelOf(m)}: the ports must be an array`;
    for (const id of transfer) {
      if (!ports.isFresh(id) || fresh.indexOf(id) >= 0) return `${labelOf(m)}: port ${id} is not a new port of this page`;
      fresh.push(id);
    }
  }
  let used = 0;
  for (let i = 0; i < m.params.length; i++) {
    const shape = m.params[i][1];
    // A stream argument, or an object the page serves: a new port of this page's each.
    const kind = Array.isArray(shape) && shape[0] === 'stream' ? 'stream' : Array.isArray(shape) && shape[0] === 'handle' ? 'port' : null;
    if (kind === null) continue;
    if (!isPortRef(args[i], kind) || fresh.indexOf(args[i].port) < 0) {
      return `${labelOf(m)}: argument ${i + 1} (${m.params[i][0]}) must be ${kind === 'stream' ? 'a stream' : 'an object the page serves'}`;
    }
    used += 1;
  }
  return used === fresh.length ? null : `${labelOf(m)}: ports that no argument uses`;
}

// The checked operations. Every entry point validates its input again: with context isolation
// these functions are reached through contextBridge proxies.
const core = {
  invoke(index, args, timeoutMs, transfer) {
    const m = methodAt(index, 'invoke');
    if (m === null) return { typeError: `${API_KEY}: no such method` };
    const problem = argumentsProblem(labelOf(m), m.params, args) || portsProblem(m, args, transfer);
    if (problem !== null) return { typeError: problem };
    if (timeoutMs !== null && !isCount(timeoutMs)) {
      return { typeError: `${labelOf(m)}: timeoutMs must be a non-negative integer` };
    }
    const uploads = Array.isArray(transfer) && transfer.length > 0 ? transfer.slice() : null;
    const id = ++lastCallId;
    let promise;
    try {
      promise = ipcRenderer.invoke(m.channel, id, timeoutMs, uploads, ...wireArgs(m.params, args))
        .then((value) => envelopeOf(m.channel, value), (cause) => rejectionOf(m.channel, cause))
        .then((envelope) => {
          // The ports the reply transfers are this window's now (their `open` may come later).
          if (envelope.ports !== undefined) envelope.ports = ports.accept(envelope.ports).ids;
          return envelope;
        });
    } catch (cause) {
      promise = Promise.resolve(rejectionOf(m.channel, cause));
    }
    if (uploads !== null) {
      ports.sent(uploads);
      // A failed call's stream arguments end: the bridge passes the close on to main where main
      // has them open, and drops it where the call never got that far.
      promise.then((envelope) => {
        if (envelope.error === undefined) return;
        const reason = `the call failed (${envelope.error.code})`;
        for (const port of uploads) {
          ports.close(port, { error: { code: 'cancelled', message: `${m.channel}: ${reason}`, channel: m.channel, reason } });
        }
      });
    }
    return { id, promise };
  },
  cancel(id) {
    if (isCount(id) && id > 0 && id <= lastCallId) ipcRenderer.send(CANCEL_CHANNEL, id);
  },
  // Blocks this page until the bridge sets `event.returnValue` (by the contract's deadline).
  invokeSync(index, args) {
    const m = methodAt(index, 'sync');
    if (m === null) return { typeError: `${API_KEY}: no such method` };
    // (Nor a stream or an object of the page's: ports cannot ride a blocking call.)
    const problem = argumentsProblem(labelOf(m), m.params, args) || portsProblem(m, args, null);
    if (problem !== null) return { typeError: problem };
    try {
      return envelopeOf(m.channel, ipcRenderer.sendSync(m.channel, ++lastCallId, ...wireArgs(m.params, args)));
    } catch (cause) {
      return rejectionOf(m.channel, cause);
    }
  },
  send(index, args) {
    const m = methodAt(index, 'send');
    if (m === null) return `${API_KEY}: no such method`;
    const problem = argumentsProblem(labelOf(m), m.params, args) || portsProblem(m, args, null);
    if (problem !== null) return problem;
    ipcRenderer.send(m.channel, ...wireArgs(m.params, args));
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
        listener(payload, []);
      } catch (error) {
        console.error(`${labelOf(m)} listener failed:`, error);
      }
    };
    ipcRenderer.on(m.channel, handler);
    const unwatchLag = watchLag(m.channel, onLag);
    let set = portEvents.get(m.channel);
    if (set === undefined) {
      set = new Set();
      portEvents.set(m.channel, set);
    }
    const withPorts = (args, ids) => listener(args, ids);
    set.add(withPorts);
    let active = true;
    return {
      dispose() {
        if (!active) return;
        active = false;
        ipcRenderer.removeListener(m.channel, handler);
        unwatchLag();
        set.delete(withPorts);
        if (set.size === 0 && portEvents.get(m.channel) === set) portEvents.delete(m.channel);
      },
    };
  },
  handle(index, serve, abort) {
    const m = methodAt(index, 'request');
    if (m === null) return { typeError: `${API_KEY}: no such request` };
    if (typeof serve !== 'function' || typeof abort !== 'function') {
      return { typeError: `${labelOf(m)} expects a handler function` };
    }
    return requests.handle(index, serve, abort);
  },
  // Ports and streams by id: this window's only (the bridge routes no other).
  portOpen() {
    return ports.open();
  },
  portDiscard(ids) {
    if (Array.isArray(ids)) ports.discard(ids.filter((id) => ports.isFresh(id)));
  },
  portRelease(ids) {
    if (Array.isArray(ids)) ports.release(ids.filter(isPortId));
  },
  portClose(id, reason, error) {
    const fields = {};
    if (typeof reason === 'string') fields.reason = reason;
    if (error !== null && typeof error === 'object') fields.error = { code: String(error.code), message: String(error.message), reason: typeof error.reason === 'string' ? error.reason : undefined };
    ports.close(id, fields);
  },
  portPull(id) {
    return ports.pull(id);
  },
  portWatch(id, onMessage, onEnd) {
    return ports.watch(id, typeof onMessage === 'function' ? onMessage : null, typeof onEnd === 'function' ? onEnd : null);
  },
  portPost(id, data) {
    const problem = plainDataProblem(data, 'the message', new Map());
    if (problem !== null) return { code: 'encode', message: problem, reason: problem };
    return ports.post(id, data);
  },
  portReady(id) {
    return ports.ready(id);
  },
  portIsClosed(id) {
    return ports.isClosed(id);
  },
};
Object.freeze(core);

{{API}}

const isolated = ISOLATION === 'isolated' || (ISOLATION === 'auto' && process.contextIsolated === true);
if (!isolated) {
  buildApi(core, METHODS, { key: API_KEY, define: true, plainErrors: false, hidden: HIDDEN, capabilities: CAPABILITIES });
} else if (typeof contextBridge.executeInMainWorld === 'function') {
  contextBridge.executeInMainWorld({
    func: buildApi,
    args: [core, METHODS, { key: API_KEY, define: true, plainErrors: false, hidden: HIDDEN, capabilities: CAPABILITIES }],
  });
} else {
  contextBridge.exposeInMainWorld(API_KEY, buildApi(core, METHODS, { key: API_KEY, define: false, plainErrors: true, hidden: HIDDEN, capabilities: CAPABILITIES }));
}
