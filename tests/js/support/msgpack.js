'use strict';
// The MessagePack codec of the generated bridge and browser client (the template itself, so the
// tests speak exactly what the generated files speak): packFrame(value, prefix) and
// unpackFrame(bytes).

const fs = require('node:fs');
const path = require('node:path');

const source = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'schema', 'src', 'js', 'templates', 'msgpack.js'), 'utf8');
// eslint-disable-next-line no-new-func
const { packFrame, unpackFrame } = new Function(`${source}\nreturn { packFrame, unpackFrame };`)();

/** A frame body: the handshake's frames are JSON text, every later frame is MessagePack. */
function encodeBody(object) {
  if (object !== null && typeof object === 'object' && object.t === 'hello') return Buffer.from(JSON.stringify(object), 'utf8');
  return Buffer.from(packFrame(object, 0));
}

/** Reads a frame body of either kind (a JSON handshake frame starts with `{`). */
function decodeBody(body) {
  if (body.length > 0 && body[0] === 0x7b) return JSON.parse(Buffer.from(body).toString('utf8'));
  return unpackFrame(body);
}

module.exports = { packFrame, unpackFrame, encodeBody, decodeBody };
