// Ports and streams (docs/PROTOCOL.md 7.1) and requests from main (7.2), this side's half: the
// port table keeps each port's messages, credits and close; the request table runs the page's
// handlers for main's invokes. The browser client is a peer on the wire and answers bad input as
// 7.1 says (`strict`); the preload sits behind the bridge, which checks the wire and routes the
// same frames to it, adding an `open` frame (with main's initial credit) before a port's first
// frame reaches the window.
const PORT_WINDOW = 16; // announced as port_window: messages the other side may send ahead of credit
const MAX_PORTS = 1024; // announced as max_ports: ports kept open at once on the connection
const MAX_QUEUED_POSTS = 1024; // messages a page may post ahead of the credit it has
const MAX_CREDIT = 0xffffffff;
const MAX_CLOSED_BY_PEER = 1024; // recent ports the other side closed, remembered for 7.1's table

function isPortId(value) {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= Number.MAX_SAFE_INTEGER;
}

function portError(code, message, fields) {
  return Object.assign({ code, message }, fields);
}

// A framework error object from the other side, with a known code and a message.
function portWireError(error) {
  const e = error !== null && typeof error === 'object' ? error : {};
  const out = {};
  for (const key of Object.keys(e)) {
    const value = e[key];
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
  }
  if (typeof out.code !== 'string') out.code = 'protocol';
  if (typeof out.message !== 'string') out.message = `IPC error: ${out.code}`;
  return out;
}

/**
 * The ports of one connection, this side's ends. io: {
 *   send(frame)       sends a frame to the other side; returns null or a wire error
 *   strict            true on the wire: bad input is answered as docs/PROTOCOL.md 7.1 says
 *   problem(reason)   (strict) answers an error frame `protocol` naming the problem
 *   initialCredit()   credit on a port this side opens (the other side's port_window; behind
 *                     the bridge 0: the bridge's `open` frame brings main's)
 *   maxOwnPorts()     the most ports this side may have open when it opens one (the other
 *                     side's max_ports)
 * }
 */
function portTable(io) {
  const ports = new Map(); // id -> port
  let lastOwn = -1; // the last (odd) id this side opened
  let lastPeer = 0; // (strict) the highest id the other side opened
  const closedByPeer = new Set();
  // Behind the bridge: ports the page was done with before their `open` came, so that the late
  // `open` does not bring them back (bounded, oldest first out).
  const tombstones = new Set();
  let dead = null; // the connection's end, once it ended
  const HALF = Math.max(1, Math.floor(PORT_WINDOW / 2));

  function record(id, credit) {
    const port = {
      id,
      // receiving: messages not taken yet ({ data, ports }), how many arrived, how many the
      // other side may send in all, taken ones not granted back yet
      queue: [], received: 0, allowed: PORT_WINDOW, ungranted: 0,
      pulls: [], // stream reads waiting for a message
      onMessage: null, onEnd: null,
      endDelivered: false, pulledEnd: false,
      // sending: credit left, posts waiting for credit, pumps waiting for credit
      credit, outbox: [], readies: [],
      ended: false, peerClosed: false, outcome: null,
      // behind the bridge: whether the bridge's `open` came, and whether a delivery named it
      opened: io.strict, claimed: io.strict, fresh: false,
    };
    ports.set(id, port);
    return port;
  }

  function bounded(set, id, limit) {
    set.add(id);
    if (set.size > limit) set.delete(set.values().next().value);
  }

  function forget(port) {
    if (ports.get(port.id) !== port) return;
    ports.delete(port.id);
    if (!port.opened) bounded(tombstones, port.id, MAX_PORTS);
  }

  function resolveReadies(port, value) {
    const readies = port.readies;
    port.readies = [];
    for (const resolve of readies) resolve(value);
  }

  function tellEnd(port) {
    port.endDelivered = true;
    try {
      port.onEnd(port.outcome.error !== undefined ? port.outcome.error : null);
    } catch (error) {
      console.error('a port\'s close listener failed:', error);
    }
  }

  // Once a port has ended: what is still queued goes first, then the outcome, to the stream's
  // reads or the port's listeners. Without a message listener the close is told at once and the
  // queued messages wait for a later listener. The port is forgotten once all is delivered.
  function settleEnd(port) {
    if (!port.ended) return;
    if (port.queue.length === 0 && port.pulls.length > 0) {
      const pulls = port.pulls;
      port.pulls = [];
      port.pulledEnd = true;
      for (const resolve of pulls) resolve(port.outcome);
    }
    // The close comes after every message sent before it (docs/PROTOCOL.md 7.1): with messages
    // still queued it waits for a listener to take them.
    if (port.onEnd !== null && !port.endDelivered && port.queue.length === 0) tellEnd(port);
    if (port.queue.length === 0 && (port.endDelivered || port.pulledEnd)) forget(port);
  }

  // The application took a message: credit goes back after half a window (docs/PROTOCOL.md 7.1).
  function taken(port) {
    if (port.ended) return;
    port.ungranted += 1;
    if (port.ungranted >= HALF) {
      const n = port.ungranted;
      port.ungranted = 0;
      port.allowed += n;
      io.send({ t: 'credit', port: port.id, n });
    }
  }

  // This side ends a port. `fields` go on the close frame (null: the other side is not told,
  // because it never knew the port); nothing is sent after the other side's own close or the
  // connection's end. `keepQueue`: what arrived before is still delivered, then `outcome` (a
  // close for the other side's fault); otherwise the page is done with the port and what waits
  // is dropped.
  function closeWith(port, fields, outcome, keepQueue) {
    if (ports.get(port.id) !== port) return;
    if (!port.ended) {
      if (fields !== null && dead === null) io.send(Object.assign({ t: 'close', port: port.id }, fields));
      port.ended = true;
      port.outcome = outcome;
      port.outbox = [];
      resolveReadies(port, false);
    }
    if (!keepQueue) {
      port.queue = [];
      if (port.onEnd === null) port.endDelivered = true;
    }
    settleEnd(port);
  }

  function violation(port, reason) {
    const error = portError('protocol', `protocol error: port ${port.id} ${reason}`, { reason: `port ${port.id} ${reason}` });
    closeWith(port, { error }, { error }, true);
  }

  function flush(port) {
    while (port.credit > 0 && port.outbox.length > 0 && !port.ended) {
      const data = port.outbox.shift();
      const problem = io.send({ t: 'port', port: port.id, data });
      if (problem !== null) {
        closeWith(port, { error: problem }, { error: problem }, true);
        return;
      }
      port.credit -= 1;
    }
    if (port.credit > 0 && port.outbox.length === 0) resolveReadies(port, true);
  }

  function deliver(port, data, transferred) {
    if (port.onMessage !== null) {
      taken(port);
      try {
        port.onMessage(data, transferred);
      } catch (error) {
        console.error('a port\'s message listener failed:', error);
      }
    } else if (port.pulls.length > 0) {
      taken(port);
      port.pulls.shift()({ value: data, ports: transferred });
    } else {
      port.queue.push({ data, ports: transferred });
    }
  }

  // A frame that names a port nobody has open (docs/PROTOCOL.md 7.1's table).
  function unknown(frame, id) {
    if (!io.strict) return;
    if (frame.t === 'port' && closedByPeer.has(id)) {
      io.problem(`a \`port\` message on port ${id} after the sender's own close`);
    } else if (id % 2 === 1 ? id > lastOwn : id > lastPeer) {
      io.problem(`\`${frame.t}\` for port ${id}, which was never opened`);
    }
    // Otherwise this side closed the port while the frame was on its way: dropped silently.
  }

  /** A port/credit/close frame from the other side (or, behind the bridge, an `open`). */
  function receive(frame) {
    const id = frame.port;
    if (!isPortId(id)) {
      if (io.strict) io.problem(`a \`${frame.t}\` frame without a valid port id`);
      return;
    }
    let port = ports.get(id);
    if (frame.t === 'open') {
      if (io.strict) return;
      if (tombstones.delete(id)) return;
      const credit = typeof frame.credit === 'number' && Number.isInteger(frame.credit) && frame.credit >= 0 ? frame.credit : PORT_WINDOW;
      if (port === undefined) port = record(id, 0);
      port.opened = true;
      port.credit += credit;
      flush(port);
      return;
    }
    if (port === undefined) {
      unknown(frame, id);
      return;
    }
    if (port.ended) {
      // Closed by the other side: a message after its own close is its mistake. Closed by this
      // side: frames still on their way are dropped.
      if (port.peerClosed && frame.t === 'port' && io.strict) {
        io.problem(`a \`port\` message on port ${id} after the sender's own close`);
      }
      return;
    }
    switch (frame.t) {
      case 'port': {
        if (port.received >= port.allowed) {
          violation(port, 'sent past its credit');
          return;
        }
        port.received += 1;
        const accepted = accept(frame.ports);
        if (accepted.error !== undefined) {
          // The message is refused, but it was sent within credit: it counts as taken.
          if (io.strict) io.problem(accepted.error.reason || accepted.error.message, accepted.error);
          taken(port);
          return;
        }
        deliver(port, frame.data === undefined ? null : frame.data, accepted.ids);
        return;
      }
      case 'credit': {
        const n = frame.n;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
          if (io.strict) io.problem(`a \`credit\` frame for port ${id} without a valid \`n\``);
          return;
        }
        if (port.credit + n > MAX_CREDIT) {
          violation(port, 'was given credit past 2^32 - 1 messages');
          return;
        }
        port.credit += n;
        flush(port);
        return;
      }
      case 'close': {
        bounded(closedByPeer, id, MAX_CLOSED_BY_PEER);
        port.peerClosed = true;
        port.ended = true;
        port.outbox = [];
        resolveReadies(port, false);
        if (frame.error !== undefined && frame.error !== null) port.outcome = { error: portWireError(frame.error) };
        else if (Object.prototype.hasOwnProperty.call(frame, 'app')) port.outcome = { app: frame.app };
        else port.outcome = { done: true };
        settleEnd(port);
        return;
      }
      default:
        break;
    }
  }

  /**
   * Opens the ports a frame of the other side transfers (its `ports` list). Returns { ids } or
   * { error } (a wire error: `protocol`, or `too_many_ports`), in which case none is opened.
   */
  function accept(list) {
    if (list === undefined || list === null) return { ids: [] };
    if (!Array.isArray(list)) {
      const reason = '`ports` is not an array of port ids';
      return { error: portError('protocol', `protocol error: ${reason}`, { reason }) };
    }
    if (list.length === 0) return { ids: [] };
    if (!io.strict) {
      // Behind the bridge, which checked them: a delivery names ports whose `open` may come
      // before or after it (Electron orders its two channels independently).
      const ids = [];
      for (const id of list) {
        if (!isPortId(id) || tombstones.has(id)) continue;
        let port = ports.get(id);
        if (port === undefined) port = record(id, 0);
        if (port.claimed) continue;
        port.claimed = true;
        ids.push(id);
      }
      return { ids };
    }
    let last = lastPeer;
    for (const id of list) {
      let reason = null;
      if (!isPortId(id)) reason = 'a port id that is not a positive integer';
      else if (id % 2 === 1) reason = `port ${id}, an id of the receiver's parity (odd ids are the renderer's)`;
      else if (ports.has(id)) reason = `port ${id}, which is already open`;
      else if (id <= last) reason = `port ${id}, not above the sender's earlier port ids`;
      if (reason !== null) {
        reason = `the \`ports\` list names ${reason}`;
        return { error: portError('protocol', `protocol error: ${reason}`, { reason }) };
      }
      last = id;
    }
    if (ports.size + list.length > MAX_PORTS) {
      return { error: portError('too_many_ports', `${ports.size} ports are open on this connection; ${list.length} more would pass the limit of ${MAX_PORTS}`, { limit: MAX_PORTS }) };
    }
    lastPeer = last;
    for (const id of list) record(id, io.initialCredit());
    return { ids: list.slice() };
  }

  /** Opens a port of this side's (an upload): its id, or a wire error. */
  function open() {
    if (dead !== null) return dead;
    const limit = Math.min(MAX_PORTS, io.maxOwnPorts());
    if (ports.size >= limit) {
      return portError('too_many_ports', `${ports.size} ports are open on this connection (the limit is ${limit})`, { limit });
    }
    lastOwn += 2;
    const port = record(lastOwn, io.initialCredit());
    port.fresh = true;
    port.claimed = true;
    return lastOwn;
  }

  /** Whether `id` is a port this side opened and has not transferred yet. */
  function isFresh(id) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    return port !== undefined && port.fresh;
  }

  /** The frame that transfers these ports of this side's went out. */
  function sent(ids) {
    for (const id of ids) {
      const port = ports.get(id);
      if (port !== undefined) port.fresh = false;
    }
  }

  /** Ends ports the other side never heard of (their frame was not sent, or was refused). */
  function discard(ids, error) {
    for (const id of ids) {
      const port = ports.get(id);
      if (port === undefined) continue;
      port.opened = true;
      closeWith(port, null, error ? { error } : { done: true }, false);
    }
  }

  /** A stream read: resolves to { value, ports }, { done: true }, { error } or { app }. */
  function pull(id) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    if (port === undefined) return Promise.resolve({ done: true });
    if (port.queue.length > 0) {
      const item = port.queue.shift();
      taken(port);
      return Promise.resolve({ value: item.data, ports: item.ports });
    }
    if (port.ended) {
      port.pulledEnd = true;
      const outcome = port.outcome;
      settleEnd(port);
      return Promise.resolve(outcome);
    }
    return new Promise((resolve) => port.pulls.push(resolve));
  }

  /**
   * A port's listeners: `onMessage(data, ports)` (or null: messages wait) and `onEnd(error or
   * null)`, called once when the port ends. Queued messages go to a new message listener at once.
   */
  function watch(id, onMessage, onEnd) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    if (port === undefined) return false;
    port.onMessage = typeof onMessage === 'function' ? onMessage : null;
    port.onEnd = typeof onEnd === 'function' ? onEnd : null;
    while (port.onMessage !== null && port.queue.length > 0) {
      const item = port.queue.shift();
      taken(port);
      try {
        port.onMessage(item.data, item.ports);
      } catch (error) {
        console.error('a port\'s message listener failed:', error);
      }
    }
    settleEnd(port);
    return true;
  }

  /** Sends a message on a port (already checked as plain data): null, or a wire error. */
  function post(id, data) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    if (port === undefined || port.ended) {
      if (dead !== null) return dead;
      return portError('disconnected', `port ${id} is closed`, { reason: 'the port is closed' });
    }
    if (port.credit > 0 && port.outbox.length === 0) {
      const problem = io.send({ t: 'port', port: id, data });
      if (problem !== null) return problem;
      port.credit -= 1;
      return null;
    }
    if (port.outbox.length >= MAX_QUEUED_POSTS) {
      return portError('too_many_in_flight', `port ${id}: ${port.outbox.length} messages already wait for the other side to grant credit`, { limit: MAX_QUEUED_POSTS });
    }
    port.outbox.push(data);
    return null;
  }

  /** Resolves to true once the port may send at once (credit, nothing waiting), false once it ended. */
  function ready(id) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    if (port === undefined || port.ended) return Promise.resolve(false);
    if (port.credit > 0 && port.outbox.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => port.readies.push(resolve));
  }

  /** The page closes a port: `fields` go on the close frame ({ reason }, { error }). */
  function close(id, fields) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    if (port === undefined) return;
    const error = fields && fields.error ? portWireError(fields.error) : undefined;
    const out = {};
    if (fields && typeof fields.reason === 'string') out.reason = fields.reason;
    if (error !== undefined) out.error = error;
    closeWith(port, out, error !== undefined ? { error } : { done: true }, false);
  }

  /** Ports a delivery transferred but nothing claimed: closed with reason "not received". */
  function release(ids) {
    if (!Array.isArray(ids)) return;
    for (const id of ids) close(id, { reason: 'not received' });
  }

  function isClosed(id) {
    const port = isPortId(id) ? ports.get(id) : undefined;
    return port === undefined || port.ended;
  }

  /** The connection ended: every port ends with its reason; nothing more is sent. */
  function closeAll(error) {
    if (dead !== null) return;
    dead = error;
    for (const port of Array.from(ports.values())) {
      port.opened = true;
      if (port.ended) continue;
      port.ended = true;
      port.peerClosed = true;
      port.outcome = { error };
      port.outbox = [];
      resolveReadies(port, false);
      settleEnd(port);
    }
  }

  return { receive, accept, open, isFresh, sent, discard, pull, watch, post, ready, close, release, isClosed, closeAll, size: () => ports.size };
}

/**
 * Requests from main (docs/PROTOCOL.md 7.2): the page's handlers, one per request channel.
 * io: { methods, reply(frame) (returns null or a wire error), ports (the port table), strict,
 *       problem(reason) }
 */
function requestTable(io) {
  const byChannel = new Map(); // channel -> method index
  for (let index = 0; index < io.methods.length; index++) {
    if (io.methods[index].kind === 'request') byChannel.set(io.methods[index].channel, index);
  }
  const handlers = new Map(); // method index -> { serve, abort }
  const running = new Map(); // main's request id -> { handler, timer, channel }
  // Longer timers fire at once in browsers and Node; main still enforces such deadlines.
  const MAX_TIMER = 2147483647;

  function answer(id, body) {
    let problem = io.reply(Object.assign({ t: 'reply', id }, body));
    if (problem !== null && body.error === undefined) problem = io.reply({ t: 'reply', id, error: problem });
  }

  function handle(index, serve, abort) {
    const m = io.methods[index];
    if (handlers.has(index)) {
      return { typeError: `${m.name} already has a handler; call the disposer of the first one before registering another` };
    }
    const handler = { serve, abort };
    handlers.set(index, handler);
    return {
      dispose() {
        if (handlers.get(index) === handler) handlers.delete(index);
      },
    };
  }

  // The handler's answer, as the page's wrapper made it ({ ok }, { app } or { error }), checked
  // once more here: only plain data leaves.
  function finish(id, envelope) {
    const call = running.get(id);
    if (call === undefined) return; // cancelled or timed out meanwhile
    running.delete(id);
    if (call.timer !== undefined) clearTimeout(call.timer);
    const e = envelope !== null && typeof envelope === 'object' ? envelope : {};
    const has = (name) => Object.prototype.hasOwnProperty.call(e, name);
    if (has('ok') || has('app')) {
      const field = has('ok') ? 'ok' : 'app';
      const value = e[field] === undefined ? null : e[field];
      const problem = plainDataProblem(value, field === 'ok' ? 'the result' : 'the error', new Map());
      if (problem !== null) {
        answer(id, { error: portError('encode', `${call.channel}: ${problem}`, { channel: call.channel, reason: problem }) });
        return;
      }
      answer(id, { [field]: value });
      return;
    }
    const error = portWireError(e.error);
    error.channel = call.channel;
    answer(id, { error });
  }

  function receive(frame) {
    const id = frame.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      if (io.strict) io.problem(`an \`${frame.t}\` frame from main without a valid \`id\``);
      return;
    }
    if (frame.t === 'cancel') {
      const call = running.get(id);
      if (call === undefined) return; // already answered
      running.delete(id);
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.handler.abort(id, 'cancelled');
      return;
    }
    const channel = typeof frame.ch === 'string' ? frame.ch : '';
    if (running.has(id)) {
      const reason = `request ${id} is already running`;
      answer(id, { error: portError('protocol', `protocol error: ${reason}`, { channel, reason }) });
      return;
    }
    const accepted = io.ports.accept(frame.ports);
    if (accepted.error !== undefined) {
      answer(id, { error: Object.assign({ channel }, accepted.error) });
      return;
    }
    const index = byChannel.get(channel);
    const handler = index === undefined ? undefined : handlers.get(index);
    if (handler === undefined) {
      io.ports.release(accepted.ids);
      answer(id, { error: portError('no_handler', `no handler is registered for channel \`${channel}\``, { channel }) });
      return;
    }
    const arity = io.methods[index].params.length;
    if (!Array.isArray(frame.args) || frame.args.length !== arity) {
      io.ports.release(accepted.ids);
      const reason = `expected ${arity} argument${arity === 1 ? '' : 's'}`;
      answer(id, { error: portError('bad_arguments', `${channel}: ${reason}`, { channel, reason }) });
      return;
    }
    const call = { handler, timer: undefined, channel };
    running.set(id, call);
    const timeout = frame.timeout_ms;
    if (typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 0 && timeout <= MAX_TIMER) {
      call.timer = setTimeout(() => {
        if (running.get(id) !== call) return;
        running.delete(id);
        answer(id, { error: portError('timeout', `${channel} timed out after ${timeout} ms`, { channel, after_ms: timeout }) });
        handler.abort(id, 'timeout');
      }, timeout);
    }
    let result;
    try {
      result = handler.serve(id, frame.args, accepted.ids);
    } catch (error) {
      const reason = error && typeof error.message === 'string' ? error.message : String(error);
      result = { error: portError('handler_panicked', `${channel}: the handler failed: ${reason}`, { reason }) };
    }
    Promise.resolve(result).then((envelope) => finish(id, envelope), (error) => {
      const reason = error && typeof error.message === 'string' ? error.message : String(error);
      finish(id, { error: portError('handler_panicked', `${channel}: the handler failed: ${reason}`, { reason }) });
    });
  }

  /** The connection ended: every running handler is aborted. */
  function closeAll() {
    for (const [id, call] of Array.from(running)) {
      running.delete(id);
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.handler.abort(id, 'disconnected');
    }
  }

  return { handle, receive, closeAll };
}
