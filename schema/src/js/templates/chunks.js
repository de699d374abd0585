// Chunk frames (docs/PROTOCOL.md 1.1) carry a message longer than the receiver's max_frame:
// 0x00, then id, total and offset as u32 big-endian, then the data.
const CHUNK_HEADER = 13;
const MAX_PARTIAL_MESSAGES = 16;
const MAX_CHUNKED_MESSAGE = 0xffffffff;

// The chunk frames of one message body (bytes), each at most `maxFrame` bytes long, with room for
// `prefix` bytes before each (4 for the byte stream's length prefix, which is filled in).
function chunkFrames(body, id, maxFrame, prefix) {
  const step = maxFrame - CHUNK_HEADER;
  const frames = [];
  for (let offset = 0; offset < body.length; offset += step) {
    const data = body.subarray(offset, Math.min(body.length, offset + step));
    const frame = new Uint8Array(prefix + CHUNK_HEADER + data.length);
    const view = new DataView(frame.buffer);
    if (prefix === 4) view.setUint32(0, CHUNK_HEADER + data.length);
    view.setUint32(prefix + 1, id);
    view.setUint32(prefix + 5, body.length);
    view.setUint32(prefix + 9, offset);
    frame.set(data, prefix + CHUNK_HEADER);
    frames.push(frame);
  }
  return frames;
}

// Reassembles the chunks of the peer's messages. `take(frame)` answers null while a message is
// incomplete, { message } (its bytes) when the frame completed one, or { fault, tooLarge } when
// the peer broke the rules: the connection cannot be trusted after that.
function chunkAssembler(maxMessage) {
  const partial = new Map(); // id -> { total, received, parts }
  function fault(reason, tooLarge) {
    partial.clear();
    return { fault: reason, tooLarge };
  }
  function take(frame) {
    if (frame.length < CHUNK_HEADER) {
      return fault(`a chunk of ${frame.length} bytes, shorter than its ${CHUNK_HEADER}-byte header`);
    }
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const id = view.getUint32(1);
    const total = view.getUint32(5);
    const offset = view.getUint32(9);
    const data = frame.subarray(CHUNK_HEADER);
    if (data.length === 0) return fault(`an empty chunk of message ${id}`);
    if (total === 0) return fault(`a chunk of message ${id} with total 0`);
    let message = partial.get(id);
    if (message === undefined) {
      if (offset !== 0) return fault(`a chunk at offset ${offset} of message ${id}, which never started`);
      if (total > maxMessage) {
        return fault(`a message of ${total} bytes, above the limit of ${maxMessage}`, { size: total, limit: maxMessage });
      }
      if (partial.size >= MAX_PARTIAL_MESSAGES) {
        return fault(`a chunk starting message ${id} while ${MAX_PARTIAL_MESSAGES} messages are partial`);
      }
      message = { total, received: 0, parts: [] };
      partial.set(id, message);
    } else if (total !== message.total) {
      return fault(`a chunk of message ${id} whose total changed from ${message.total} to ${total}`);
    } else if (offset !== message.received) {
      return fault(`a chunk at offset ${offset} of message ${id}, which stands at ${message.received}`);
    }
    if (offset + data.length > total) {
      return fault(`a chunk of message ${id} with data past its total of ${total} bytes`);
    }
    message.parts.push(data);
    message.received += data.length;
    if (message.received < total) return null;
    partial.delete(id);
    const whole = new Uint8Array(total);
    let at = 0;
    for (const part of message.parts) {
      whole.set(part, at);
      at += part.length;
    }
    return { message: whole };
  }
  return { take };
}
