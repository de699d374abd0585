/**
 * A stream from the other side (docs/PROTOCOL.md 7.1): `for await (const item of stream)`.
 * Iteration ends when the producer finishes, and throws IpcAppError (the producer's own error)
 * or IpcFrameworkError when it fails; leaving the loop early or `cancel()` stops the producer.
 * Made by the bindings only.
 */
class IpcStream {
  constructor(link, plain) {
    // link: { next(), return(value), cancel(reason) } of one stream, from the bindings.
    const iterator = {
      next() { return link.next(); },
      return(value) { return link.return(value); },
    };
    Object.defineProperty(iterator, Symbol.asyncIterator, { value() { return iterator; } });
    Object.defineProperty(this, Symbol.asyncIterator, { value() { return iterator; } });
    Object.defineProperty(this, 'cancel', { value: function cancel(reason) { link.cancel(reason); }, enumerable: true });
    if (plain) {
      // A copy made by contextBridge.exposeInMainWorld keeps no symbol: the page reads these.
      Object.defineProperty(this, 'next', { value: function next() { return link.next(); }, enumerable: true });
      Object.defineProperty(this, 'return', { value: function (value) { return link.return(value); }, enumerable: true });
    }
    Object.freeze(this);
  }
}

/**
 * One end of a two-way channel (docs/PROTOCOL.md 7.1): `postMessage`, `onMessage`, `onClose`,
 * `close`, `closed`. Made by the bindings only.
 */
class IpcPort {
  constructor(link) {
    // link: { postMessage(message), onMessage(listener), onClose(listener), close(), closed() }
    const method = (name, fn) => Object.defineProperty(this, name, { value: fn, enumerable: true });
    method('postMessage', function postMessage(message) { link.postMessage(message); });
    method('onMessage', function onMessage(listener) { return link.onMessage(listener); });
    method('onClose', function onClose(listener) { return link.onClose(listener); });
    method('close', function close() { link.close(); });
    Object.defineProperty(this, 'closed', { get() { return link.closed(); }, enumerable: true });
    Object.freeze(this);
  }
}
