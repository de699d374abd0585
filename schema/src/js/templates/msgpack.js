// MessagePack (docs/PROTOCOL.md 4.2), the frames of the msgpack codec: `packFrame(value, prefix)`
// and `unpackFrame(bytes, bigints)`. Only what the protocol needs: nil, booleans, integers (a
// Number, as JSON gives them: exact up to 2^53; with `bigints`, a BigInt beyond that, exact; a
// BigInt is written as a 64-bit integer), floats, UTF-8 strings, `bin` (a fresh Uint8Array of its
// own; any ArrayBuffer or view is written as one), arrays, and maps (plain objects; a `Map` is
// written with its keys as they are, so a map with integer keys can be sent). An extension type,
// a key that is not a string or a number, input cut short, a length the input cannot hold,
// nesting deeper than MSGPACK_MAX_DEPTH and trailing bytes all throw: the decoder never
// allocates more than its input could fill.
// The payload's 128 levels (what the Rust main takes), and the frame's own around them.
const MSGPACK_MAX_DEPTH = 132;
const msgpackText = { encoder: new TextEncoder(), decoder: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }) };
let packBuffer = new Uint8Array(16 * 1024);
let packView = new DataView(packBuffer.buffer);
let packAt = 0;
let packing = false;

function packRoom(n) {
  if (packAt + n <= packBuffer.length) return;
  let size = packBuffer.length * 2;
  while (size < packAt + n) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(packBuffer.subarray(0, packAt));
  packBuffer = grown;
  packView = new DataView(grown.buffer);
}

function packByte(b) {
  packRoom(1);
  packBuffer[packAt++] = b;
}

function packHead(marker, n, width) {
  packRoom(1 + width);
  packBuffer[packAt++] = marker;
  if (width === 1) packBuffer[packAt] = n;
  else if (width === 2) packView.setUint16(packAt, n);
  else packView.setUint32(packAt, n);
  packAt += width;
}

function packLength(n, fix, fixMax, m8, m16, m32) {
  if (n <= fixMax && fix !== 0) packByte(fix | n);
  else if (n < 0x100 && m8 !== 0) packHead(m8, n, 1);
  else if (n < 0x10000) packHead(m16, n, 2);
  else packHead(m32, n, 4);
}

function packInteger(n) {
  if (n >= 0) {
    if (n < 0x80) packByte(n);
    else if (n < 0x100) packHead(0xcc, n, 1);
    else if (n < 0x10000) packHead(0xcd, n, 2);
    else if (n < 0x100000000) packHead(0xce, n, 4);
    else {
      packRoom(9);
      packBuffer[packAt] = 0xcf;
      packView.setBigUint64(packAt + 1, BigInt(n));
      packAt += 9;
    }
  } else if (n >= -32) {
    packByte(n & 0xff);
  } else if (n >= -0x80) {
    packRoom(2);
    packBuffer[packAt] = 0xd0;
    packView.setInt8(packAt + 1, n);
    packAt += 2;
  } else if (n >= -0x8000) {
    packRoom(3);
    packBuffer[packAt] = 0xd1;
    packView.setInt16(packAt + 1, n);
    packAt += 3;
  } else if (n >= -0x80000000) {
    packRoom(5);
    packBuffer[packAt] = 0xd2;
    packView.setInt32(packAt + 1, n);
    packAt += 5;
  } else {
    packRoom(9);
    packBuffer[packAt] = 0xd3;
    packView.setBigInt64(packAt + 1, BigInt(n));
    packAt += 9;
  }
}

function packString(s) {
  // Short ASCII strings (channel names, keys) are written directly.
  if (s.length < 32) {
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      packRoom(1 + s.length);
      packBuffer[packAt++] = 0xa0 | s.length;
      for (let i = 0; i < s.length; i++) packBuffer[packAt++] = s.charCodeAt(i);
      return;
    }
  }
  // At most 3 bytes per UTF-16 unit; the header is written once the length is known.
  const most = s.length * 3;
  const width = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
  packRoom(width + most);
  const { written } = msgpackText.encoder.encodeInto(s, packBuffer.subarray(packAt + width));
  if (width === 1) packBuffer[packAt] = 0xa0 | written;
  else if (width === 2) {
    packBuffer[packAt] = 0xd9;
    packBuffer[packAt + 1] = written;
  } else if (width === 3) {
    packBuffer[packAt] = 0xda;
    packView.setUint16(packAt + 1, written);
  } else {
    packBuffer[packAt] = 0xdb;
    packView.setUint32(packAt + 1, written);
  }
  packAt += width + written;
}

function packValue(value, depth) {
  if (depth > MSGPACK_MAX_DEPTH) throw new TypeError(`a value nested deeper than ${MSGPACK_MAX_DEPTH} levels cannot be sent`);
  switch (typeof value) {
    case 'string':
      packString(value);
      return;
    case 'number':
      // Every integral number a 64-bit integer holds is written as one (serde reads no float
      // into an integer field); others, and -0, as JSON would have them.
      if (Number.isInteger(value) && value >= -9223372036854775808 && value < 18446744073709551616) packInteger(value === 0 ? 0 : value);
      else {
        packRoom(9);
        packBuffer[packAt] = 0xcb;
        packView.setFloat64(packAt + 1, value);
        packAt += 9;
      }
      return;
    case 'boolean':
      packByte(value ? 0xc3 : 0xc2);
      return;
    case 'bigint':
      if (value >= -(2n ** 63n) && value < 2n ** 64n) {
        packRoom(9);
        packBuffer[packAt] = value < 0n ? 0xd3 : 0xcf;
        if (value < 0n) packView.setBigInt64(packAt + 1, value);
        else packView.setBigUint64(packAt + 1, value);
        packAt += 9;
        return;
      }
      throw new TypeError(`the integer ${value} does not fit in 64 bits`);
    case 'undefined':
      packByte(0xc0);
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`a ${typeof value} cannot be sent`);
  }
  if (value === null) {
    packByte(0xc0);
  } else if (Array.isArray(value)) {
    packLength(value.length, 0x90, 15, 0, 0xdc, 0xdd);
    for (let i = 0; i < value.length; i++) packValue(value[i], depth + 1);
  } else if (ArrayBuffer.isView(value) || Object.prototype.toString.call(value) === '[object ArrayBuffer]') {
    const bytes = ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    packLength(bytes.length, 0, 0, 0xc4, 0xc5, 0xc6);
    packRoom(bytes.length);
    packBuffer.set(bytes, packAt);
    packAt += bytes.length;
  } else if (Object.prototype.toString.call(value) === '[object Map]') {
    const entries = Array.from(value.entries()).filter((entry) => entry[1] !== undefined);
    packLength(entries.length, 0x80, 15, 0, 0xde, 0xdf);
    for (const [key, item] of entries) {
      packValue(key, depth + 1);
      packValue(item, depth + 1);
    }
  } else if (typeof value.toJSON === 'function') {
    packValue(value.toJSON(), depth + 1);
  } else {
    // A plain object: its own enumerable properties, as JSON would have it (undefined left out),
    // each read once (a getter that changed between a count and a read would break the map).
    const entries = [];
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item !== undefined) entries.push(key, item);
    }
    packLength(entries.length / 2, 0x80, 15, 0, 0xde, 0xdf);
    for (let i = 0; i < entries.length; i += 2) {
      packString(entries[i]);
      packValue(entries[i + 1], depth + 1);
    }
  }
}

// Encodes `value` after `prefix` bytes (left for the caller: a length), into a fresh array.
function packFrame(value, prefix) {
  // Called again from inside (a getter or toJSON that sends): that frame gets buffers of its own.
  const outer = packing ? [packBuffer, packView, packAt] : null;
  if (outer !== null) {
    packBuffer = new Uint8Array(1024);
    packView = new DataView(packBuffer.buffer);
  }
  packing = true;
  packAt = prefix;
  packRoom(0);
  try {
    packValue(value, 0);
    // A large frame keeps the buffer it was written into (copying it again would cost as much
    // as writing it); the next frame starts a small buffer of its own.
    if (packAt < 64 * 1024) return packBuffer.slice(0, packAt);
    const whole = packBuffer.subarray(0, packAt);
    packBuffer = new Uint8Array(16 * 1024);
    packView = new DataView(packBuffer.buffer);
    return whole;
  } finally {
    if (outer !== null) {
      [packBuffer, packView, packAt] = outer;
    } else {
      packing = false;
      packAt = 0;
    }
  }
}

// Decodes exactly one value from `bytes` (a Uint8Array).
function unpackFrame(bytes, bigints = false) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let at = 0;
  const need = (n) => {
    if (at + n > end) throw new Error(`MessagePack input cut short at byte ${at}`);
  };
  const count = (n, least) => {
    // Every element takes a byte at least: a count the rest cannot hold is refused first.
    if (n * least > end - at) throw new Error(`MessagePack collection of ${n} at byte ${at} is longer than the input`);
    return n;
  };
  function text(n) {
    need(n);
    const start = at;
    at += n;
    if (n < 64) {
      let s = '';
      for (let i = start; i < at; i++) {
        const c = bytes[i];
        if (c > 0x7f) return msgpackText.decoder.decode(bytes.subarray(start, at));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return msgpackText.decoder.decode(bytes.subarray(start, at));
  }
  // A copy of its own, never a view into `bytes` (a Node Buffer's slice would be one, and the
  // buffer may hold other frames: another window's).
  function binary(n) {
    need(n);
    const out = new Uint8Array(n);
    out.set(bytes.subarray(at, at + n));
    at += n;
    return out;
  }
  // As JSON gives them (exact up to 2^53), or exact beyond as a BigInt.
  function integer(big) {
    return bigints && (big > 9007199254740991n || big < -9007199254740991n) ? big : Number(big);
  }
  function array(n, depth) {
    count(n, 1);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value(depth + 1);
    return out;
  }
  function map(n, depth) {
    count(n, 2);
    const out = {};
    for (let i = 0; i < n; i++) {
      const key = value(depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') throw new Error(`MessagePack map key of type ${typeof key} at byte ${at}`);
      const item = value(depth + 1);
      const name = String(key);
      if (name === '__proto__') Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
      else out[name] = item;
    }
    return out;
  }
  function value(depth) {
    if (depth > MSGPACK_MAX_DEPTH) throw new Error(`MessagePack nesting deeper than ${MSGPACK_MAX_DEPTH} levels`);
    need(1);
    const m = bytes[at++];
    if (m < 0x80) return m;
    if (m < 0x90) return map(m & 0x0f, depth);
    if (m < 0xa0) return array(m & 0x0f, depth);
    if (m < 0xc0) return text(m & 0x1f);
    if (m >= 0xe0) return m - 0x100;
    let n;
    switch (m) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: need(1); n = bytes[at]; at += 1; return binary(n);
      case 0xc5: need(2); n = view.getUint16(at); at += 2; return binary(n);
      case 0xc6: need(4); n = view.getUint32(at); at += 4; return binary(n);
      case 0xca: need(4); at += 4; return view.getFloat32(at - 4);
      case 0xcb: need(8); at += 8; return view.getFloat64(at - 8);
      case 0xcc: need(1); return bytes[at++];
      case 0xcd: need(2); at += 2; return view.getUint16(at - 2);
      case 0xce: need(4); at += 4; return view.getUint32(at - 4);
      case 0xcf: need(8); at += 8; return integer(view.getBigUint64(at - 8));
      case 0xd0: need(1); at += 1; return view.getInt8(at - 1);
      case 0xd1: need(2); at += 2; return view.getInt16(at - 2);
      case 0xd2: need(4); at += 4; return view.getInt32(at - 4);
      case 0xd3: need(8); at += 8; return integer(view.getBigInt64(at - 8));
      case 0xd9: need(1); n = bytes[at]; at += 1; return text(n);
      case 0xda: need(2); n = view.getUint16(at); at += 2; return text(n);
      case 0xdb: need(4); n = view.getUint32(at); at += 4; return text(n);
      case 0xdc: need(2); n = view.getUint16(at); at += 2; return array(n, depth);
      case 0xdd: need(4); n = view.getUint32(at); at += 4; return array(n, depth);
      case 0xde: need(2); n = view.getUint16(at); at += 2; return map(n, depth);
      case 0xdf: need(4); n = view.getUint32(at); at += 4; return map(n, depth);
      default:
        throw new Error(`MessagePack marker 0x${m.toString(16)} at byte ${at - 1} is not used by the protocol`);
    }
  }
  const result = value(0);
  if (at !== end) throw new Error(`${end - at} trailing bytes after the MessagePack value`);
  return result;
}
