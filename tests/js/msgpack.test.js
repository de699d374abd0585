'use strict';
// The generated MessagePack codec (schema/src/js/templates/msgpack.js) on its own: every value
// kind at its boundaries, and every refusal of bad input (what the Rust side checks too). Its
// agreement with the Rust side is proven by the round trips with a real main (bytes.test.js and
// the other suites).

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { packFrame, unpackFrame } = require('./support/msgpack');

const round = (value) => unpackFrame(packFrame(value, 0));

describe('msgpack codec', () => {
  it('round-trips integers at every width boundary, in the smallest form', () => {
    const cases = [
      [0, 0x00], [127, 0x7f], [128, 0xcc], [255, 0xcc], [256, 0xcd], [65535, 0xcd], [65536, 0xce],
      [2 ** 32 - 1, 0xce], [2 ** 32, 0xcf], [2 ** 53, 0xcf], [2 ** 63, 0xcf],
      [-1, 0xff], [-32, 0xe0], [-33, 0xd0], [-128, 0xd0], [-129, 0xd1], [-32768, 0xd1],
      [-32769, 0xd2], [-(2 ** 31), 0xd2], [-(2 ** 31) - 1, 0xd3], [-(2 ** 62), 0xd3],
    ];
    for (const [n, marker] of cases) {
      const packed = packFrame(n, 0);
      assert.equal(packed[0], marker, `${n} is written with 0x${marker.toString(16)}`);
      assert.equal(unpackFrame(packed), n);
    }
    // -0 is 0 (as in JSON); fractions and numbers past 64 bits are floats.
    assert.equal(packFrame(-0, 0)[0], 0x00);
    assert.equal(packFrame(1.5, 0)[0], 0xcb);
    assert.equal(packFrame(2 ** 64, 0)[0], 0xcb);
    assert.equal(round(2 ** 64), 2 ** 64);
  });

  it('round-trips strings of every header width, and keeps a byte-order mark', () => {
    for (const s of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(200), 'x'.repeat(70000), '😀 ok', '\uFEFFtext']) {
      assert.equal(round(s), s);
    }
    assert.equal(round({ '\uFEFFkey': 1 })['\uFEFFkey'], 1);
  });

  it('writes any bytes as bin and reads bin into a Uint8Array of its own', () => {
    const source = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    for (const view of [source, source.buffer, new DataView(source.buffer, 2, 3), Buffer.from(source), new Uint16Array(source.buffer)]) {
      const back = round(view);
      assert.ok(back instanceof Uint8Array);
    }
    assert.deepEqual(Array.from(round(new DataView(source.buffer, 2, 3))), [3, 4, 5]);
    // Read out of a buffer that holds more (another frame): the result holds its own bytes only.
    const frame = packFrame(Uint8Array.from([9, 9]), 0);
    const shared = Buffer.concat([Buffer.from(frame), Buffer.from('another window\'s frame')]);
    const bytes = unpackFrame(shared.subarray(0, frame.length));
    assert.equal(bytes.buffer.byteLength, 2);
  });

  it('writes objects as JSON would and Maps with their keys, reading each property once', () => {
    assert.deepEqual(round({ a: 1, skipped: undefined, nested: [null, true, { b: 'c' }] }), { a: 1, nested: [null, true, { b: 'c' }] });
    assert.deepEqual(round([undefined]), [null]);
    const map = packFrame(new Map([[1, 'a'], [2, 'b']]), 0);
    assert.equal(map[1], 0x01, 'an integer key stays an integer');
    assert.deepEqual(unpackFrame(map), { 1: 'a', 2: 'b' });
    let reads = 0;
    const getter = { get once() { reads += 1; return reads; } };
    assert.deepEqual(round(getter), { once: 1 });
    assert.equal(reads, 1);
    // A getter that packs a frame of its own does not disturb the outer one.
    const reentrant = { get inner() { return packFrame({ deep: [1, 2, 3] }, 0).length; }, after: 'ok' };
    assert.deepEqual(round(reentrant), { inner: packFrame({ deep: [1, 2, 3] }, 0).length, after: 'ok' });
    const proto = unpackFrame(packFrame(JSON.parse('{"__proto__": {"polluted": true}}'), 0));
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.equal({}.polluted, undefined);
  });

  it('refuses what cannot be sent', () => {
    assert.throws(() => packFrame({ f: () => 1 }, 0), /a function cannot be sent/);
    assert.throws(() => packFrame(Symbol('s'), 0), /a symbol cannot be sent/);
    assert.throws(() => packFrame(2n ** 64n, 0), /does not fit in 64 bits/);
    let deep = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    assert.throws(() => packFrame(deep, 0), /nested deeper/);
  });

  it('refuses bad input without allocating what it claims', () => {
    const cases = [
      [[], /cut short/],
      [[0x92, 0x01], /longer than the input/],
      [[0x91], /longer than the input|cut short/],
      [[0xdd, 0xff, 0xff, 0xff, 0xff], /longer than the input/],
      [[0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61], /longer than the input/],
      [[0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], /cut short/],
      [[0xc6, 0xff, 0xff, 0xff, 0xff, 0x01], /cut short/],
      [[0x81, 0xc3, 0x01], /map key of type boolean/],
      [[0xc7, 0x01, 0x05, 0x00], /not used by the protocol/],
      [[0xc1], /not used by the protocol/],
      [[0x01, 0x02], /trailing bytes/],
      [[0xa2, 0xc3, 0x28], /./],
      [[...new Array(140).fill(0x91), 0x01], /nesting deeper/],
    ];
    for (const [bytes, reason] of cases) {
      assert.throws(() => unpackFrame(Uint8Array.from(bytes)), reason, `refuses ${bytes.slice(0, 6).map((b) => b.toString(16)).join(' ')}`);
    }
  });
});
