const FRAMEWORK_CODES = ['no_handler', 'bad_arguments', 'bad_reply', 'cancelled', 'timeout',
  'disconnected', 'handler_panicked', 'too_large', 'too_many_in_flight', 'too_many_connections', 'too_many_ports', 'forbidden',
  'version_mismatch', 'protocol', 'encode', 'revoked'];
// Wire field name -> JavaScript property name.
const FRAMEWORK_FIELDS = [['channel', 'channel'], ['reason', 'reason'], ['limit', 'limit'],
  ['size', 'size'], ['after_ms', 'afterMs'], ['ours', 'ours'], ['theirs', 'theirs'], ['rule', 'rule']];

function previewValue(value) {
  let text;
  try { text = JSON.stringify(value); } catch (_) { text = undefined; }
  if (typeof text !== 'string') text = String(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** The handler's own error (the `Err` of a `Result`), as the contract types it: see `.data`. */
class IpcAppError extends Error {
  constructor(channel, data) {
    super(`${channel} failed: ${previewValue(data)}`);
    this.name = 'IpcAppError';
    /** The channel that failed. */
    this.channel = channel;
    /** The application error value. */
    this.data = data;
  }
}

/** A failure of the IPC machinery (no handler, bad arguments, timeout, cancelled, ...): `.code`. */
class IpcFrameworkError extends Error {
  constructor(error, channel) {
    const wire = typeof error === 'object' && error !== null ? error : {};
    const code = FRAMEWORK_CODES.indexOf(wire.code) >= 0 ? wire.code : 'protocol';
    super(typeof wire.message === 'string' ? wire.message : `IPC error: ${code}`);
    this.name = 'IpcFrameworkError';
    /** The stable error code (docs/PROTOCOL.md section 6). */
    this.code = code;
    if (channel !== undefined) this.channel = channel;
    for (const [wireName, name] of FRAMEWORK_FIELDS) {
      const value = wire[wireName];
      if (typeof value === 'string' || typeof value === 'number') this[name] = value;
    }
  }
}
