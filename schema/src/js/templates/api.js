// Builds the page-facing API object from `core` (the checked operations of the preload or of the
// WebSocket connection). Self-contained on purpose: the preload may serialize this function and
// run it in the page's world with `contextBridge.executeInMainWorld`, so that errors are real
// `Error`s of the page and `AbortSignal`s are read where they live.
//
// The argument checks run here, in the caller's world, where a page's Map, Date or class instance
// is still what it is: contextBridge would copy it into something else on the way to `core`
// (which checks again).
//
// config: { key, define, plainErrors }
//   define       true: define a frozen, non-writable `globalThis[key]` and return nothing;
//                false: return the API object.
//   plainErrors  reject with plain frozen objects instead of `Error`s (for
//                `contextBridge.exposeInMainWorld`, which copies only the message of an `Error`).
function buildApi(core, methods, config) {
  'use strict';
{{ERRORS}}
{{CHECKS}}

  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const hasOwn = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
  const OPTION_NAMES = ['signal', 'timeoutMs'];
  const EVENT_OPTION_NAMES = ['onLag'];
  // Longer timers fire at once in browsers; the Rust main still enforces such deadlines.
  const MAX_TIMER_MS = 2147483647;

  function expects(m) {
    const n = m.params.length;
    const names = m.params.map((p) => p[0]).join(', ');
    return n === 0 ? 'no arguments' : `${n} argument${n === 1 ? '' : 's'} (${names})`;
  }

  function fail(error) {
    if (!config.plainErrors) return error;
    const plain = { name: error.name, message: error.message };
    for (const name of Object.keys(error)) plain[name] = error[name];
    if (typeof error.stack === 'string') plain.stack = error.stack;
    return freeze(plain);
  }

  function frameworkError(code, message, channel, extra) {
    return new IpcFrameworkError(Object.assign({ code, message, channel }, extra), channel);
  }

  function readOptions(label, options) {
    if (options === undefined) return { timeoutMs: null, signal: undefined };
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`${label}: the last argument must be an options object { signal, timeoutMs }`);
    }
    for (const name of Object.keys(options)) {
      if (OPTION_NAMES.indexOf(name) < 0) {
        throw new TypeError(`${label}: unknown option \`${name}\` (the options are signal and timeoutMs)`);
      }
    }
    let timeoutMs = null;
    if (options.timeoutMs !== undefined) {
      const t = options.timeoutMs;
      if (typeof t !== 'number' || !(t >= 0) || t === Infinity) {
        throw new TypeError(`${label}: options.timeoutMs must be a non-negative number of milliseconds`);
      }
      timeoutMs = Math.ceil(t);
    }
    let signal = options.signal;
    if (signal === null) signal = undefined;
    if (signal !== undefined && (typeof signal !== 'object' || typeof signal.aborted !== 'boolean'
        || typeof signal.addEventListener !== 'function')) {
      throw new TypeError(`${label}: options.signal must be an AbortSignal` + (config.plainErrors
        ? ' (an AbortSignal cannot cross contextBridge.exposeInMainWorld; signals need Electron 35 or later, which has contextBridge.executeInMainWorld)'
        : ''));
    }
    return { timeoutMs, signal };
  }

  function invoker(index, m, label) {
    const arity = m.params.length;
    return function (...args) {
      let options;
      if (args.length === arity + 1) {
        options = args.pop();
      } else if (args.length !== arity) {
        throw new TypeError(`${label} expects ${expects(m)} and an optional options object, got ${args.length} arguments`);
      }
      const { timeoutMs, signal } = readOptions(label, options);
      const problem = argumentsProblem(label, m.params, args);
      if (problem !== null) throw new TypeError(problem);
      if (signal !== undefined && signal.aborted) {
        return Promise.reject(fail(frameworkError('cancelled', `${label} was cancelled before it was sent`, m.channel)));
      }
      const started = core.invoke(index, args, timeoutMs);
      if (typeof started.typeError === 'string') throw new TypeError(started.typeError);
      const callId = started.id;
      return new Promise((resolve, reject) => {
        let done = false;
        let timer;
        const onAbort = () => stop(frameworkError('cancelled', `${label} was cancelled by its AbortSignal`, m.channel));
        function finish() {
          done = true;
          if (timer !== undefined) clearTimeout(timer);
          if (signal !== undefined) signal.removeEventListener('abort', onAbort);
        }
        function stop(error) {
          if (done) return;
          finish();
          core.cancel(callId);
          reject(fail(error));
        }
        started.promise.then((envelope) => {
          if (done) return;
          finish();
          if (envelope !== null && typeof envelope === 'object') {
            if (hasOwn(envelope, 'ok')) return resolve(envelope.ok);
            if (hasOwn(envelope, 'app')) return reject(fail(new IpcAppError(m.channel, envelope.app)));
            if (hasOwn(envelope, 'error')) return reject(fail(new IpcFrameworkError(envelope.error, m.channel)));
          }
          reject(fail(frameworkError('protocol', `${label}: malformed reply`, m.channel, { reason: 'malformed reply' })));
        }, (cause) => {
          if (done) return;
          finish();
          const reason = cause && typeof cause.message === 'string' ? cause.message : String(cause);
          reject(fail(frameworkError('disconnected', `${label}: ${reason}`, m.channel, { reason })));
        });
        if (timeoutMs !== null && timeoutMs <= MAX_TIMER_MS) {
          timer = setTimeout(() => stop(frameworkError('timeout', `${label} timed out after ${timeoutMs} ms`, m.channel, { after_ms: timeoutMs })), timeoutMs);
        }
        if (signal !== undefined) signal.addEventListener('abort', onAbort, { once: true });
      });
    };
  }

  function sender(index, m, label) {
    return function (...args) {
      const problem = argumentsProblem(label, m.params, args);
      if (problem !== null) throw new TypeError(problem);
      const refused = core.send(index, args);
      if (typeof refused === 'string') throw new TypeError(refused);
      // A send that can never be delivered (the connection is gone) fails loudly, like an invoke.
      if (refused !== null && typeof refused === 'object') throw fail(new IpcFrameworkError(refused, m.channel));
    };
  }

  function readEventOptions(label, options) {
    if (options === undefined) return undefined;
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`${label}: the second argument must be an options object { onLag }`);
    }
    for (const name of Object.keys(options)) {
      if (EVENT_OPTION_NAMES.indexOf(name) < 0) {
        throw new TypeError(`${label}: unknown option \`${name}\` (the only option is onLag)`);
      }
    }
    const onLag = options.onLag;
    if (onLag !== undefined && typeof onLag !== 'function') {
      throw new TypeError(`${label}: options.onLag must be a function (missed) => void`);
    }
    return onLag;
  }

  function subscriber(index, m, label) {
    return function (listener, options) {
      if (arguments.length < 1 || arguments.length > 2 || typeof listener !== 'function') {
        throw new TypeError(`${label} expects a listener function and an optional options object { onLag }`);
      }
      const onLag = readEventOptions(label, options);
      // Missed events are never silent: without onLag the page's console says so.
      const lag = onLag !== undefined ? onLag : (missed) => {
        const them = missed === 1 ? 'event: the Rust main dropped it' : 'events: the Rust main dropped them';
        console.warn(`${label}: missed ${missed} ${them} because the page did not keep up (pass { onLag } to handle this)`);
      };
      const subscription = core.subscribe(index, listener, lag);
      if (typeof subscription.typeError === 'string') throw new TypeError(subscription.typeError);
      let active = true;
      // The disposer is the only way to unsubscribe: functions crossing contextBridge are new
      // proxies each time, so the page could never hand the same listener back.
      return function dispose() {
        if (!active) return;
        active = false;
        subscription.dispose();
      };
    };
  }

  const api = {};
  for (let index = 0; index < methods.length; index++) {
    const m = methods[index];
    let target = api;
    if (m.ns !== null) {
      if (!hasOwn(api, m.ns)) defineProperty(api, m.ns, { value: {}, enumerable: true });
      target = api[m.ns];
    }
    const label = m.ns === null ? `${config.key}.${m.name}` : `${config.key}.${m.ns}.${m.name}`;
    let fn;
    if (m.kind === 'invoke') fn = invoker(index, m, label);
    else if (m.kind === 'send') fn = sender(index, m, label);
    else if (m.kind === 'event') fn = subscriber(index, m, label);
    else continue;
    defineProperty(fn, 'name', { value: m.name });
    defineProperty(target, m.name, { value: freeze(fn), enumerable: true });
  }
  for (const name of Object.keys(api)) freeze(api[name]);
  freeze(api);
  if (config.define) {
    defineProperty(globalThis, config.key, { value: api, enumerable: true, writable: false, configurable: false });
    return undefined;
  }
  return api;
}
