// Builds the page-facing API object from `core` (the checked operations of the preload or of the
// WebSocket connection). Self-contained on purpose: the preload may serialize this function and
// run it in the page's world with `contextBridge.executeInMainWorld`, so that errors are real
// `Error`s of the page and `AbortSignal`s are read where they live.
//
// The argument checks run here, in the caller's world, where a page's Map, Date or class instance
// is still what it is: contextBridge would copy it into something else on the way to `core`
// (which checks again).
//
// Streams and ports (docs/PROTOCOL.md 7.1) are objects of this world too (`IpcStream`,
// `IpcPort`), over `core`'s port operations by id: references in what arrives
// ({"$ipc":"stream","port":N}) become objects here, and a stream argument (any iterable) is
// pumped from here, within the credit the receiver grants.
//
// Capability handles (docs/PROTOCOL.md 7.3) are objects of this world too: a port reference
// whose shape is ["handle", ns] becomes an object with the capability's methods (each call a
// message on the port, each answer another), `release()` and `released`.
//
// config: { key, define, plainErrors, hidden, capabilities }
//   define       true: define a frozen, non-writable `globalThis[key]` and return nothing;
//                false: return the API object.
//   capabilities by namespace, the methods of the objects handles reach (CAPABILITIES).
//   plainErrors  reject with plain frozen objects instead of `Error`s (for
//                `contextBridge.exposeInMainWorld`, which copies only the message of an `Error`
//                and no symbol: streams then carry their own `next` and `return`, and request
//                handlers get no AbortSignal).
function buildApi(core, methods, config) {
  'use strict';
{{ERRORS}}
{{CHECKS}}
{{HANDLES}}

  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const hasOwn = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
  const OPTION_NAMES = ['signal', 'timeoutMs'];
  const EVENT_OPTION_NAMES = ['onLag'];
  // Longer timers fire at once in browsers; the Rust main still enforces such deadlines.
  const MAX_TIMER_MS = 2147483647;
  const capabilities = config.capabilities !== null && typeof config.capabilities === 'object' ? config.capabilities : {};
  // A call through a handle waits this long unless its options say otherwise (as in Rust).
  const DEFAULT_HANDLE_TIMEOUT_MS = {{DEFAULT_TIMEOUT_MS}};
  // The backstop for handles the page drops without releasing them: the port closes when the
  // handle is collected. Not where the page holds copies made by contextBridge (this world's
  // handle would be collected at once, while the page's copy is still in use).
  const dropped = !config.plainErrors && typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((collected) => collected())
    : null;

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

  function isRef(value, kind, ports) {
    return value !== null && typeof value === 'object' && !isArray(value) && value.$ipc === kind
      && isArray(ports) && ports.indexOf(value.port) >= 0;
  }

  // The part of `shape` that describes `item` (of a union, the alternative of its kind), or
  // 'any' where the shape does not say.
  function shapeFor(shape, item) {
    if (!isArray(shape) || shape[0] !== 'union') return shape;
    const kind = isArray(item) ? ['tuple', 'array'] : item.$ipc === 'port' ? ['port', 'handle'] : item.$ipc === 'stream' ? ['stream'] : ['struct', 'map'];
    const found = shape.slice(1).find((alternative) => isArray(alternative) && kind.indexOf(alternative[0]) >= 0);
    return found === undefined ? 'any' : found;
  }

  // The shape of an array's `i`th item, or of an object's `name` field.
  function partShape(shape, key, index) {
    if (!isArray(shape)) return 'any';
    switch (shape[0]) {
      case 'tuple': return index + 1 < shape.length ? shape[index + 1] : 'any';
      case 'array': return shape[1];
      case 'map': return shape[2];
      case 'struct': {
        const field = shape.slice(1).find((f) => f[0] === key);
        return field === undefined ? 'any' : field[1];
      }
      default: return 'any';
    }
  }

  // What arrived with `ports`, its port references made objects of this world: each listed port
  // once, the first reference to it; ports nothing refers to are closed ("not received").
  // Copies the containers on the way (what crossed contextBridge is frozen). `shape`: the
  // value's shape, which says what each port and stream carries (their messages and items are
  // read with it: `readValue`).
  function revive(value, ports, channel, shape = 'any') {
    const streams = [];
    if (!isArray(ports) || ports.length === 0) return { value, streams };
    const unclaimed = new Set(ports);
    const walk = (item, depth, outer) => {
      if (item === null || typeof item !== 'object' || depth > 64 || unclaimed.size === 0 || ArrayBuffer.isView(item)) return item;
      const here = shapeFor(outer, item);
      if (isArray(item)) {
        let copy = null;
        for (let i = 0; i < item.length; i++) {
          const revived = walk(item[i], depth + 1, partShape(here, null, i));
          if (revived !== item[i]) {
            if (copy === null) copy = item.slice();
            copy[i] = revived;
          }
        }
        return copy === null ? item : copy;
      }
      const kind = item.$ipc;
      if ((kind === 'stream' || kind === 'port') && unclaimed.has(item.port)) {
        unclaimed.delete(item.port);
        if (kind === 'port' && isArray(here) && here[0] === 'handle') return handleOf(item.port, here[1]);
        const known = isArray(here) && here[0] === kind;
        if (kind === 'port') return portOf(item.port, channel, known ? here[1] : 'any', known ? here[2] : 'any');
        const stream = streamOf(item.port, channel, known ? here[1] : 'any');
        streams.push(stream.cancel);
        return stream.handle;
      }
      let copy = null;
      for (const name of Object.keys(item)) {
        const revived = walk(item[name], depth + 1, partShape(here, name, -1));
        if (revived !== item[name]) {
          if (copy === null) copy = Object.fromEntries(Object.entries(item));
          copy[name] = revived;
        }
      }
      return copy === null ? item : copy;
    };
    const out = walk(value, 0, shape);
    if (unclaimed.size > 0) core.portRelease(Array.from(unclaimed));
    return { value: out, streams };
  }

  function streamOf(id, channel, itemShape) {
    let finished = false;
    function cancel(reason) {
      if (finished) return;
      finished = true;
      core.portClose(id, typeof reason === 'string' && reason !== '' ? reason : 'cancelled');
    }
    const link = {
      next() {
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return core.portPull(id).then((record) => {
          if (finished) return { value: undefined, done: true };
          if (record !== null && typeof record === 'object' && hasOwn(record, 'value')) {
            return { value: readValue(itemShape, revive(record.value, record.ports, channel, itemShape).value), done: false };
          }
          finished = true;
          if (record !== null && typeof record === 'object' && hasOwn(record, 'app')) throw fail(new IpcAppError(channel, record.app));
          if (record !== null && typeof record === 'object' && record.error !== undefined) throw fail(new IpcFrameworkError(record.error, channel));
          return { value: undefined, done: true };
        });
      },
      return(value) {
        cancel();
        return Promise.resolve({ value, done: true });
      },
      cancel(reason) {
        if (reason !== undefined && typeof reason !== 'string') throw new TypeError(`${channel}: stream.cancel(reason) takes an optional string`);
        cancel(reason);
      },
    };
    return { handle: new IpcStream(link, config.plainErrors), cancel };
  }

  function portOf(id, channel, outShape, inShape) {
    const messageListeners = [];
    const closeListeners = [];
    let closed = false;
    let outcome = null;
    function report(what, error) {
      console.error(`${channel}: a port's ${what} listener failed:`, error);
    }
    function onEnd(error) {
      if (closed) return;
      closed = true;
      outcome = error === null || error === undefined ? null : fail(new IpcFrameworkError(error, channel));
      messageListeners.length = 0;
      for (const listener of closeListeners.splice(0)) {
        try { listener(outcome); } catch (e) { report('close', e); }
      }
    }
    function onMessage(data, ports) {
      const message = readValue(inShape, isArray(ports) && ports.length > 0 ? revive(data, ports, channel, inShape).value : data);
      for (const listener of messageListeners.slice()) {
        try { listener(message); } catch (e) { report('message', e); }
      }
    }
    core.portWatch(id, null, onEnd);
    const link = {
      postMessage(message) {
        if (arguments.length !== 1) throw new TypeError(`${channel}: port.postMessage takes one message`);
        // Its Dates as their text; checked as it travels.
        let problem = shapeProblem(outShape, message, 'the message');
        const wired = problem === null ? wireValue(outShape, message, 0, false) : message;
        if (problem === null) problem = plainDataProblem(wired, 'the message', new Map());
        if (problem !== null) throw new TypeError(`${channel}: ${problem}`);
        const refused = core.portPost(id, wired);
        if (refused !== null && typeof refused === 'object') throw fail(new IpcFrameworkError(refused, channel));
      },
      onMessage(listener) {
        if (typeof listener !== 'function') throw new TypeError(`${channel}: port.onMessage expects a listener function`);
        const entry = (message) => listener(message);
        if (closed) return function dispose() {};
        messageListeners.push(entry);
        if (messageListeners.length === 1) core.portWatch(id, onMessage, onEnd);
        let active = true;
        return function dispose() {
          if (!active) return;
          active = false;
          const at = messageListeners.indexOf(entry);
          if (at >= 0) messageListeners.splice(at, 1);
          // Without a listener, messages wait again (and the other side waits for credit).
          if (messageListeners.length === 0 && !closed) core.portWatch(id, null, onEnd);
        };
      },
      onClose(listener) {
        if (typeof listener !== 'function') throw new TypeError(`${channel}: port.onClose expects a listener function`);
        if (closed) {
          Promise.resolve().then(() => listener(outcome)).then(undefined, (e) => report('close', e));
          return function dispose() {};
        }
        const entry = (error) => listener(error);
        closeListeners.push(entry);
        let active = true;
        return function dispose() {
          if (!active) return;
          active = false;
          const at = closeListeners.indexOf(entry);
          if (at >= 0) closeListeners.splice(at, 1);
        };
      },
      close() {
        if (closed) return;
        core.portClose(id, undefined);
        onEnd(null);
      },
      closed() {
        return closed;
      },
    };
    return new IpcPort(link);
  }

  // A handle to one object of capability `ns` (docs/PROTOCOL.md 7.3), over port `id`: the
  // capability's methods, `release()` and `released`. Calls run concurrently; each has the
  // options of an invoke (signal, timeoutMs: 30 s unless set) and sends `cancel` when given up
  // on. The port closing (released here, revoked by the owner, the connection gone) fails the
  // calls in flight and every later one.
  function handleOf(id, ns) {
    const capability = hasOwn(capabilities, ns) ? capabilities[ns] : undefined;
    if (capability === undefined || !isArray(capability.methods)) {
      // Bindings generated without this capability: nothing here could call the object.
      core.portClose(id, 'not received');
      return null;
    }
    const waiting = new Map(); // call id -> { answer(message, ports), fail(error) }
    const token = {};
    // No closure here refers to `handle`, so that the page dropping it lets it be collected.
    const handle = {};
    let nextId = 1;
    let ended = null; // the wire error every call gets once the handle cannot be called
    let collected = false; // the page dropped the handle: released once no call waits

    function endAll(error) {
      if (dropped !== null) dropped.unregister(token);
      const calls = Array.from(waiting.values());
      waiting.clear();
      for (const call of calls) call.fail(error);
    }
    function onMessage(data, ports) {
      const transferred = isArray(ports) ? ports : [];
      const message = data !== null && typeof data === 'object' ? data : {};
      const call = typeof message.id === 'number' ? waiting.get(message.id) : undefined;
      if (call === undefined) {
        // The answer to a call given up on: what it transferred is not received.
        if (transferred.length > 0) core.portRelease(transferred);
        return;
      }
      waiting.delete(message.id);
      call.answer(message, transferred);
      if (collected && waiting.size === 0) release();
    }
    function onEnd(error) {
      if (ended === null) {
        ended = error !== null && error !== undefined
          ? error
          : { code: 'disconnected', message: `${ns}: the object is gone (its port closed)`, reason: 'the object is gone' };
      }
      endAll(ended);
    }
    function release() {
      if (ended !== null) return;
      ended = { code: 'disconnected', message: `${ns}: the handle was released`, reason: 'the handle was released' };
      core.portClose(id, 'released');
      endAll(ended);
    }

    function method(m) {
      const label = `${ns}.${m.name}`;
      const arity = m.params.length;
      const shape = m.result !== undefined ? m.result : m.returns;
      const objects = paramsOf(m, 'handle').length > 0;
      const call = function (...args) {
        let options;
        if (args.length === arity + 1) {
          options = args.pop();
        } else if (args.length !== arity) {
          throw new TypeError(`${label} expects ${expects(m)} and an optional options object, got ${args.length} arguments`);
        }
        const read = readOptions(label, options);
        const problem = argumentsProblem(label, m.params, args);
        if (problem !== null) throw new TypeError(problem);
        if (objects) throw new TypeError(`${label}: a call through a handle cannot carry an object the page serves (invokes can)`);
        if (ended !== null) return Promise.reject(fail(new IpcFrameworkError(ended, m.channel)));
        const signal = read.signal;
        if (signal !== undefined && signal.aborted) {
          return Promise.reject(fail(frameworkError('cancelled', `${label} was cancelled before it was sent`, m.channel)));
        }
        const callId = nextId++;
        const refused = core.portPost(id, { t: 'call', id: callId, call: { m: m.wire, args: wireArgs(m.params, args) } });
        if (refused !== null && typeof refused === 'object') return Promise.reject(fail(new IpcFrameworkError(refused, m.channel)));
        const timeoutMs = read.timeoutMs !== null ? read.timeoutMs : DEFAULT_HANDLE_TIMEOUT_MS;
        return new Promise((resolve, reject) => {
          let timer;
          const onAbort = () => giveUp(frameworkError('cancelled', `${label} was cancelled by its AbortSignal`, m.channel));
          function finish() {
            if (timer !== undefined) clearTimeout(timer);
            if (signal !== undefined) signal.removeEventListener('abort', onAbort);
          }
          function giveUp(error) {
            if (waiting.get(callId) !== entry) return;
            waiting.delete(callId);
            finish();
            if (ended === null) core.portPost(id, { t: 'cancel', id: callId });
            reject(fail(error));
            if (collected && waiting.size === 0) release();
          }
          const entry = {
            fail(error) {
              finish();
              reject(fail(new IpcFrameworkError(error, m.channel)));
            },
            answer(message, transferred) {
              finish();
              if (message.t === 'error') {
                if (transferred.length > 0) core.portRelease(transferred);
                return reject(fail(new IpcFrameworkError(message.error, m.channel)));
              }
              const reply = message.t === 'reply' && message.reply !== null && typeof message.reply === 'object' ? message.reply : {};
              const outcome = reply.outcome !== null && typeof reply.outcome === 'object' ? reply.outcome : {};
              if (hasOwn(outcome, 'Ok')) {
                const revived = revive(outcome.Ok === undefined ? null : outcome.Ok, transferred, m.channel, shape);
                return resolve(shape === undefined ? revived.value : readValue(shape, revived.value));
              }
              if (hasOwn(outcome, 'Err')) {
                return reject(fail(new IpcAppError(m.channel, readError(m, revive(outcome.Err, transferred, m.channel, m.fails).value))));
              }
              if (transferred.length > 0) core.portRelease(transferred);
              reject(fail(frameworkError('bad_reply', `${label}: a malformed answer`, m.channel, { reason: 'a malformed answer' })));
            },
          };
          waiting.set(callId, entry);
          if (timeoutMs <= MAX_TIMER_MS) {
            timer = setTimeout(() => giveUp(frameworkError('timeout', `${label} timed out after ${timeoutMs} ms`, m.channel, { after_ms: timeoutMs })), timeoutMs);
          }
          if (signal !== undefined) signal.addEventListener('abort', onAbort, { once: true });
        });
      };
      defineProperty(call, 'name', { value: m.name });
      return freeze(call);
    }

    for (const m of capability.methods) defineProperty(handle, m.name, { value: method(m), enumerable: true });
    defineProperty(handle, 'release', { value: freeze(release), enumerable: true });
    defineProperty(handle, 'released', { get() { return ended !== null; }, enumerable: true });
    if (!config.plainErrors) {
      // `using handle = ...` and `await using` (where the runtime has explicit resource management).
      if (typeof Symbol.dispose === 'symbol') defineProperty(handle, Symbol.dispose, { value: release });
      if (typeof Symbol.asyncDispose === 'symbol') {
        defineProperty(handle, Symbol.asyncDispose, { value() { release(); return Promise.resolve(); } });
      }
    }
    freeze(handle);
    core.portWatch(id, onMessage, onEnd);
    if (dropped !== null && ended === null) {
      // Collected with calls in flight (`(await open()).read()`): released once they are answered.
      dropped.register(handle, () => {
        collected = true;
        if (waiting.size === 0) release();
      }, token);
    }
    return handle;
  }

  // How many calls main may have running on one object the page serves (as on Rust's side).
  const MAX_OBJECT_CALLS = 256;

  // Checks that `impl` can serve capability `ns` (an object with a function per method);
  // returns the TypeError message or null.
  function objectProblem(label, ns, impl) {
    const capability = hasOwn(capabilities, ns) ? capabilities[ns] : undefined;
    if (capability === undefined || !isArray(capability.methods)) {
      return `${label}: these bindings were generated without capability \`${ns}\``;
    }
    if (impl === null || typeof impl !== 'object' || isArray(impl)) {
      return `${label}: expects an object with the methods of \`${capability.name}\``;
    }
    for (const m of capability.methods) {
      if (typeof impl[m.name] !== 'function') {
        return `${label}: the object has no method \`${m.name}\` (\`${capability.name}\` needs ${capability.methods.map((x) => x.name).join(', ')})`;
      }
    }
    return null;
  }

  // What a handler of the page's (a request's, or a method of an object it serves) settled with,
  // as the wire takes it: { ok }, { app } (a thrown `{ name: "IpcAppError", data }` where `m`
  // declares an error), or { error }: `encode` for a value that cannot be sent,
  // `handler_panicked` for any other throw, and for a throw while reading what was thrown (a
  // throwing getter), so the other side always hears an answer.
  function handlerOutcome(m, channel, label, promise) {
    const wired = (shape, value, what, make) => {
      const out = value === undefined ? null : shape === undefined ? value : wireValue(shape, value, 0, false);
      const problem = plainDataProblem(out, what, new Map());
      if (problem === null) return make(out);
      console.error(`${label}: ${problem}`);
      return { error: { code: 'encode', message: `${label}: ${problem}`, channel, reason: problem } };
    };
    const panicked = (reason) => ({ error: { code: 'handler_panicked', message: `${label}: the handler failed: ${reason}`, channel, reason } });
    return promise.then(
      (value) => wired(m.returns, value, 'the result', (ok) => ({ ok })),
      (error) => {
        if (m.app === true && error !== null && typeof error === 'object' && error.name === 'IpcAppError' && hasOwn(error, 'data')) {
          return wired(m.fails, error.data, 'the error', (app) => ({ app }));
        }
        return panicked(error !== null && typeof error === 'object' && typeof error.message === 'string' ? error.message : String(error));
      },
    ).then(undefined, (broke) => {
      let reason = 'what it threw could not be read';
      try { reason = `${reason}: ${broke && typeof broke.message === 'string' ? broke.message : typeof broke}`; } catch (_) { /* keep the plain reason */ }
      return panicked(reason);
    });
  }

  // Serves `impl`, an object of the page's own, as capability `ns` over port `id`, which the
  // call just carried to main (docs/PROTOCOL.md 7.3): main calls it through its handle as it
  // would call a renderer. Each call runs `impl[name](...args, signal)` (`signal` aborts when
  // main no longer waits; `undefined` with context isolation on Electron older than 35); its
  // value (or promise) answers. A thrown `{ name: "IpcAppError", data }` answers the method's
  // application error, any other throw `handler_panicked`. Main dropping its handle (or the
  // connection ending) releases the object: calls still running get their signal aborted.
  function serveObject(id, ns, impl, label) {
    const capability = capabilities[ns];
    const byWire = new Map(capability.methods.map((m) => [m.wire, m]));
    // Call id -> its entry ({ controller: an AbortController, null where signals cannot cross }).
    const running = new Map();
    // Calls main gave up on whose method has not settled yet: still counted against the limit.
    let abandoned = 0;
    let ended = false;
    const isId = (callId) => isInteger(callId) || typeof callId === 'bigint';
    function giveUp(entry, error) {
      entry.abandoned = true;
      abandoned += 1;
      if (entry.controller !== null) entry.controller.abort(fail(error));
    }
    function end(error) {
      if (ended) return;
      ended = true;
      const calls = Array.from(running.values());
      running.clear();
      for (const entry of calls) giveUp(entry, new IpcFrameworkError(error, ns));
    }
    function broken(reason) {
      const error = { code: 'protocol', message: `${label}: ${reason}`, channel: ns, reason };
      console.error(`${label}: ${reason}; the object is released`);
      core.portClose(id, undefined, error);
      end(error);
    }
    function failure(callId, code, message, extra) {
      return { t: 'error', id: callId, error: Object.assign({ code, message, channel: ns }, extra) };
    }
    // The method settled: its answer goes out if main still waits for this very call.
    function settled(callId, entry, message) {
      if (entry.abandoned) {
        abandoned -= 1;
        return;
      }
      if (running.get(callId) !== entry) return;
      running.delete(callId);
      const refused = core.portPost(id, message);
      if (refused !== null && typeof refused === 'object' && message.t === 'reply') {
        // Main must hear something: a refused answer becomes the error saying why.
        console.error(`${label}: the answer to call ${callId} was refused (${refused.code}): ${refused.message}`);
        core.portPost(id, failure(callId, 'encode', `${label}: the answer could not be sent: ${refused.message}`, { reason: String(refused.message) }));
      }
    }
    function onMessage(data, ports) {
      const transferred = isArray(ports) ? ports : [];
      const message = data !== null && typeof data === 'object' && !isArray(data) ? data : {};
      // Call ids are main's, below 2^53 (numbers here; a bigint where the decoder makes them).
      if (message.t === 'cancel' && isId(message.id)) {
        if (transferred.length > 0) core.portRelease(transferred);
        const entry = running.get(message.id);
        if (entry === undefined) return;
        running.delete(message.id);
        giveUp(entry, frameworkError('cancelled', `${label}: main no longer waits for the answer`, ns, { reason: 'cancelled' }));
        return;
      }
      const call = message.call !== null && typeof message.call === 'object' ? message.call : {};
      const m = typeof call.m === 'string' ? byWire.get(call.m) : undefined;
      if (message.t !== 'call' || !isId(message.id) || m === undefined || !isArray(call.args)) {
        if (transferred.length > 0) core.portRelease(transferred);
        return broken(message.t === 'call' && m === undefined ? `main called a method the object does not have (${stringify(call.m)})` : 'a message that is no call');
      }
      const callId = message.id;
      const refusal = running.has(callId)
        ? failure(callId, 'protocol', `${label}: call id ${callId} is already in flight on this object`, { reason: `call id ${callId} is already in flight` })
        : running.size + abandoned >= MAX_OBJECT_CALLS
          ? failure(callId, 'too_many_in_flight', `${label}: ${MAX_OBJECT_CALLS} calls are already running on this object`, { limit: MAX_OBJECT_CALLS })
          : null;
      if (refusal !== null) {
        if (transferred.length > 0) core.portRelease(transferred);
        core.portPost(id, refusal);
        return;
      }
      const channel = `${ns}:${m.wire}`;
      const what = `${label}.${m.name}`;
      const entry = { controller: config.plainErrors ? null : new AbortController(), abandoned: false };
      running.set(callId, entry);
      const started = new Promise((resolve) => {
        const values = readArgs(m.params, transferred.length > 0 ? revive(call.args, transferred, channel, paramsShape(m)).value : call.args);
        const all = [];
        for (let i = 0; i < m.params.length; i++) all.push(values[i]);
        all.push(entry.controller !== null ? entry.controller.signal : undefined);
        resolve(impl[m.name](...all));
      });
      handlerOutcome(m, ns, what, started).then((outcome) => settled(callId, entry, hasOwn(outcome, 'ok')
        ? { t: 'reply', id: callId, reply: { m: m.wire, outcome: { Ok: outcome.ok } } }
        : hasOwn(outcome, 'app')
          ? { t: 'reply', id: callId, reply: { m: m.wire, outcome: { Err: outcome.app } } }
          : { t: 'error', id: callId, error: outcome.error }));
    }
    core.portWatch(id, onMessage, (error) => end(error !== null && error !== undefined ? error
      : { code: 'disconnected', message: `${label}: main released the object`, reason: 'released' }));
  }

  function isStreamSource(value) {
    if (typeof value === 'string') return true;
    return value !== null && typeof value === 'object'
      && (typeof value[Symbol.asyncIterator] === 'function' || typeof value[Symbol.iterator] === 'function');
  }

  // Pulls a stream argument's items and sends them on port `id`, never ahead of the receiver's
  // credit; stops pulling (and calls the source's `return()`) when the receiver closes the port.
  function pump(id, source, itemShape, label) {
    let iterator;
    try {
      iterator = typeof source !== 'string' && typeof source[Symbol.asyncIterator] === 'function'
        ? source[Symbol.asyncIterator]()
        : source[Symbol.iterator]();
    } catch (error) {
      const reason = error && typeof error.message === 'string' ? error.message : String(error);
      core.portClose(id, undefined, { code: 'cancelled', message: `${label}: the stream's source failed: ${reason}`, reason });
      return;
    }
    const stop = () => {
      try {
        if (iterator && typeof iterator.return === 'function') {
          const done = iterator.return();
          if (done && typeof done.then === 'function') done.then(undefined, () => {});
        }
      } catch (_) { /* the source's own cleanup failed: nothing left to tell */ }
    };
    let count = 0;
    const step = () => core.portReady(id).then((ready) => {
      if (!ready) {
        stop();
        return undefined;
      }
      return Promise.resolve().then(() => iterator.next()).then((item) => {
        if (core.portIsClosed(id)) {
          if (!(item && item.done)) stop();
          return undefined;
        }
        if (item === null || typeof item !== 'object') {
          core.portClose(id, undefined, { code: 'cancelled', message: `${label}: the stream's source returned a non-object from next()`, reason: 'bad iterator result' });
          return undefined;
        }
        if (item.done) {
          core.portClose(id, undefined);
          return undefined;
        }
        count += 1;
        let problem = shapeProblem(itemShape, item.value, `item ${count}`);
        const wired = problem === null ? wireValue(itemShape, item.value, 0, false) : item.value;
        if (problem === null) problem = plainDataProblem(wired, `item ${count}`, new Map());
        if (problem !== null) {
          console.error(`${label}: ${problem}; the stream is closed`);
          core.portClose(id, undefined, { code: 'bad_arguments', message: `${label}: ${problem}`, reason: problem });
          stop();
          return undefined;
        }
        const refused = core.portPost(id, wired);
        if (refused !== null && typeof refused === 'object') {
          core.portClose(id, undefined, refused);
          stop();
          return undefined;
        }
        return step();
      }, (error) => {
        const reason = error && typeof error.message === 'string' ? error.message : String(error);
        core.portClose(id, undefined, { code: 'cancelled', message: `${label}: the stream's source failed: ${reason}`, reason });
      });
    });
    step().then(undefined, (error) => console.error(`${label}: the stream failed:`, error));
  }

  // A message's positional values (an event's, a request's) as one tuple.
  function paramsShape(m) {
    return ['tuple'].concat(m.params.map((p) => p[1]));
  }

  function readError(m, data) {
    return m.fails === undefined ? data : readValue(m.fails, data);
  }

  // The positions of a method's parameters whose shape is of `kind` ('stream', 'handle').
  function paramsOf(m, kind) {
    const at = [];
    for (let i = 0; i < m.params.length; i++) {
      if (isArray(m.params[i][1]) && m.params[i][1][0] === kind) at.push(i);
    }
    return at;
  }

  function invoker(index, m, label) {
    const arity = m.params.length;
    const streamAt = paramsOf(m, 'stream');
    const objectAt = paramsOf(m, 'handle');
    // A sync method called as an invoke (the browser client) has the contract's deadline and no
    // options, as where it blocks.
    const optional = m.kind !== 'sync';
    return function (...args) {
      let options;
      if (optional && args.length === arity + 1) {
        options = args.pop();
      } else if (args.length !== arity) {
        throw new TypeError(`${label} expects ${expects(m)}${optional ? ' and an optional options object' : ''}, got ${args.length} arguments`);
      }
      const read = readOptions(label, options);
      const signal = read.signal;
      const timeoutMs = typeof m.timeoutMs === 'number' ? m.timeoutMs : read.timeoutMs;
      let problem = argumentsProblem(label, m.params, args);
      for (const i of objectAt) {
        if (problem === null) problem = objectProblem(`${label}: argument ${i + 1} (${m.params[i][0]})`, m.params[i][1][1], args[i]);
      }
      if (problem !== null) throw new TypeError(problem);
      if (signal !== undefined && signal.aborted) {
        return Promise.reject(fail(frameworkError('cancelled', `${label} was cancelled before it was sent`, m.channel)));
      }
      // Each stream argument travels as a port of this side's, pumped once the call is sent; each
      // object the page serves, as a port it answers calls on.
      let ports = null;
      const uploads = [];
      const objects = [];
      if (streamAt.length > 0 || objectAt.length > 0) {
        ports = [];
        for (const i of streamAt.concat(objectAt)) {
          const id = core.portOpen();
          if (typeof id !== 'number') {
            core.portDiscard(ports);
            return Promise.reject(fail(new IpcFrameworkError(id, m.channel)));
          }
          const what = `${label}: argument ${i + 1} (${m.params[i][0]})`;
          if (m.params[i][1][0] === 'stream') {
            uploads.push([id, args[i], m.params[i][1][1], what]);
            args[i] = { $ipc: 'stream', port: id };
          } else {
            objects.push([id, m.params[i][1][1], args[i], what]);
            args[i] = { $ipc: 'port', port: id };
          }
          ports.push(id);
        }
      }
      let started;
      try {
        started = core.invoke(index, args, timeoutMs, ports);
      } catch (error) {
        if (ports !== null) core.portDiscard(ports);
        throw error;
      }
      if (typeof started.typeError === 'string') {
        if (ports !== null) core.portDiscard(ports);
        throw new TypeError(started.typeError);
      }
      for (const [id, ns, impl, what] of objects) serveObject(id, ns, impl, what);
      for (const [id, source, itemShape, what] of uploads) pump(id, source, itemShape, what);
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
          const transferred = envelope !== null && typeof envelope === 'object' && isArray(envelope.ports) ? envelope.ports : [];
          if (done) {
            // Given up on: what the reply transferred is not received.
            if (transferred.length > 0) core.portRelease(transferred);
            return;
          }
          finish();
          if (envelope !== null && typeof envelope === 'object') {
            if (hasOwn(envelope, 'ok')) {
              if (m.result !== undefined && !isRef(envelope.ok, m.result[0], transferred)) {
                core.portRelease(transferred);
                const reason = `the result is not a ${m.result[0]} the reply transfers`;
                return reject(fail(frameworkError('bad_reply', `${label}: ${reason}`, m.channel, { reason })));
              }
              const revived = revive(envelope.ok, transferred, m.channel, m.result !== undefined ? m.result : m.returns);
              // The call's signal also stops the streams it returned.
              if (signal !== undefined && revived.streams.length > 0) {
                signal.addEventListener('abort', () => { for (const cancel of revived.streams) cancel('cancelled'); }, { once: true });
              }
              return resolve(m.returns === undefined ? revived.value : readValue(m.returns, revived.value));
            }
            if (hasOwn(envelope, 'app')) return reject(fail(new IpcAppError(m.channel, readError(m, revive(envelope.app, transferred, m.channel, m.fails).value))));
            if (transferred.length > 0) core.portRelease(transferred);
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

  // A sync method (Electron's sendSync): the page is blocked until the bridge answers, which it
  // does by the contract's deadline at the latest.
  function syncer(index, m, label) {
    const objects = paramsOf(m, 'handle').length > 0;
    return function (...args) {
      if (args.length !== m.params.length) {
        throw new TypeError(`${label} expects ${expects(m)}, got ${args.length} arguments`);
      }
      if (objects) throw new TypeError(`${label}: a sync call cannot carry an object the page serves (invokes can)`);
      const problem = argumentsProblem(label, m.params, args);
      if (problem !== null) throw new TypeError(problem);
      const envelope = core.invokeSync(index, args);
      if (envelope !== null && typeof envelope === 'object') {
        if (typeof envelope.typeError === 'string') throw new TypeError(envelope.typeError);
        if (hasOwn(envelope, 'ok')) return m.returns === undefined ? envelope.ok : readValue(m.returns, envelope.ok);
        if (hasOwn(envelope, 'app')) throw fail(new IpcAppError(m.channel, readError(m, envelope.app)));
        if (hasOwn(envelope, 'error')) throw fail(new IpcFrameworkError(envelope.error, m.channel));
      }
      throw fail(frameworkError('protocol', `${label}: malformed reply`, m.channel, { reason: 'malformed reply' }));
    };
  }

  function sender(index, m, label) {
    const streams = paramsOf(m, 'stream').length > 0;
    const objects = paramsOf(m, 'handle').length > 0;
    return function (...args) {
      if (streams) throw new TypeError(`${label}: a send cannot carry a stream argument (invokes can)`);
      if (objects) throw new TypeError(`${label}: a send cannot carry an object the page serves (invokes can)`);
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
      // Events may transfer ports (to the first subscription only: a port has one owner).
      const deliver = (args, ports) => {
        const values = isArray(ports) && ports.length > 0 ? revive(args, ports, m.channel, paramsShape(m)).value : args;
        listener(...readArgs(m.params, values));
      };
      const subscription = core.subscribe(index, deliver, lag);
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

  // A request from main (docs/PROTOCOL.md 7.2): `handler(...args, signal)` answers with its value
  // (or a promise of it). A throw answers `handler_panicked`; for a request that declares an
  // application error, a thrown `{ name: "IpcAppError", data }` answers with `data` as that error.
  function requester(index, m, label) {
    const arity = m.params.length;
    return function (handler) {
      if (arguments.length !== 1 || typeof handler !== 'function') {
        throw new TypeError(`${label} expects a handler function (${m.params.map((p) => p[0]).concat('signal').join(', ')}) => result`);
      }
      const controllers = new Map();
      const serve = (id, args, ports) => {
        const controller = config.plainErrors ? null : new AbortController();
        if (controller !== null) controllers.set(id, controller);
        const started = new Promise((resolve) => {
          const values = readArgs(m.params, isArray(ports) && ports.length > 0 ? revive(args, ports, m.channel, paramsShape(m)).value : args);
          const all = [];
          for (let i = 0; i < arity; i++) all.push(values[i]);
          all.push(controller !== null ? controller.signal : undefined);
          resolve(handler(...all));
        });
        return handlerOutcome(m, m.channel, label, started).then((answer) => {
          controllers.delete(id);
          return answer;
        });
      };
      const abort = (id, why) => {
        const controller = controllers.get(id);
        if (controller === undefined) return;
        controllers.delete(id);
        const code = why === 'timeout' ? 'timeout' : why === 'disconnected' ? 'disconnected' : 'cancelled';
        controller.abort(frameworkError(code, `${label}: main no longer waits for the answer (${why})`, m.channel, { reason: String(why) }));
      };
      const registration = core.handle(index, serve, abort);
      if (typeof registration.typeError === 'string') throw new TypeError(`${label}: ${registration.typeError}`);
      let active = true;
      return function dispose() {
        if (!active) return;
        active = false;
        registration.dispose();
      };
    };
  }

  const api = {};
  for (let index = 0; index < methods.length; index++) {
    const m = methods[index];
    // Methods this page's policy leaves out are not in its API at all.
    if (Array.isArray(config.hidden) && config.hidden[index] === true) continue;
    let target = api;
    if (m.ns !== null) {
      if (!hasOwn(api, m.ns)) defineProperty(api, m.ns, { value: {}, enumerable: true });
      target = api[m.ns];
    }
    const label = m.ns === null ? `${config.key}.${m.name}` : `${config.key}.${m.ns}.${m.name}`;
    let fn;
    if (m.kind === 'invoke') fn = invoker(index, m, label);
    // Where the core cannot block (the browser client), a sync method is an invoke.
    else if (m.kind === 'sync') fn = typeof core.invokeSync === 'function' ? syncer(index, m, label) : invoker(index, m, label);
    else if (m.kind === 'send') fn = sender(index, m, label);
    else if (m.kind === 'event') fn = subscriber(index, m, label);
    else if (m.kind === 'request') fn = requester(index, m, label);
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
