'use strict';
// Values that cannot cross as plain data are refused at the caller, with a TypeError naming the
// method, the parameter and the path inside it, and nothing is sent: in the generated preload (in
// each of the modelled Electron worlds) and in the browser client. The contract is the golden
// `notes` one (schema/tests/golden/notes), whose parameters take nested data.

const assert = require('node:assert/strict');
const path = require('node:path');
const { describe, it, before } = require('node:test');
const { pathToFileURL } = require('node:url');

const { ROOT, generate } = require('./support/setup');
const { createWindow, FakeIpcMain } = require('./support/electron');
const { unpackFrame } = require('./support/msgpack');

const bindings = generate({ schema: path.join(ROOT, 'schema', 'tests', 'golden', 'notes', 'schema.json') });
const { CONTRACTS } = require(bindings.path('bridge.js'));

const cycle = "(() => { const note = { title: 't', tags: [] }; note.extra = { parent: note }; return note; })()";

// [what, call (page-side source), the TypeError's message or null when the value is accepted,
//  what contextBridge.exposeInMainWorld (older Electron) makes of it when it differs: 'copied'
//  (it arrives as a plain object and is sent) or 'refused by contextBridge' (it throws first)]
const CASES = [
  ['a function', "notes.save({ title: 't', tags: ['a', 'b'], extra: [() => 1] })",
    'notes.save: argument 1 (note).extra[0] is a function, which cannot be sent'],
  ['a symbol', "notes.save({ title: 't', tags: [], extra: Symbol('s') })",
    'notes.save: argument 1 (note).extra is a symbol, which cannot be sent', 'refused by contextBridge'],
  // A bigint is a 64-bit MessagePack integer, exact: one beyond that cannot be.
  ['a bigint', "notes.put('k', 10n)", null],
  ['a bigint beyond 64 bits', "notes.put('k', { big: 2n ** 64n })",
    'notes.put: argument 2 (value).big is a bigint beyond 64 bits, which cannot be sent'],
  ['NaN', "notes.save({ title: 't', tags: [], extra: { ratio: NaN } })",
    'notes.save: argument 1 (note).extra.ratio is NaN, which cannot be sent'],
  ['Infinity', "notes.put('k', [1, Infinity])",
    'notes.put: argument 2 (value)[1] is Infinity, which cannot be sent'],
  ['-Infinity', "notes.put('k', { low: -Infinity })",
    'notes.put: argument 2 (value).low is -Infinity, which cannot be sent'],
  ['an undefined array item', "notes.save({ title: 't', tags: ['a'], extra: ['a', undefined] })",
    'notes.save: argument 1 (note).extra[1] is undefined, which cannot be sent'],
  // The contract's types, checked all the way down (the path names where).
  ['a wrong type in a nested array', "notes.save({ title: 't', tags: ['a', 3], extra: null })",
    'notes.save: argument 1 (note).tags[1] must be a string, got the number 3'],
  ['a wrong field type', "notes.save({ title: 5, tags: [], extra: null })",
    'notes.save: argument 1 (note).title must be a string, got the number 5'],
  ['a wrong type deep in a send', "notes.record([{ title: 't', tags: [] }, { title: 't', tags: [true], extra: 1 }])",
    'notes.record: argument 1 (notes)[1].tags[0] must be a string, got true'],
  ['a wrong field of an internally tagged variant', "notes.mark({ kind: 'Label', text: 7 }, {})",
    'notes.mark: argument 1 (mark).text must be a string, got the number 7'],
  ['a wrong item of an adjacently tagged variant', "notes.mark({ kind: 'Color', value: [1, 'x'] }, {})",
    'notes.mark: argument 1 (mark).value[1] must be a number, got a string'],
  ['a wrong field of an externally tagged variant', "notes.mark({ Pinned: { until: 'soon' } }, {})",
    'notes.mark: argument 1 (mark).Pinned.until must be a number, got a string'],
  ['an unknown variant', "notes.mark('Nothing', {})",
    'notes.mark: argument 1 (mark) must be an object or "None", got a string'],
  ['a wrong map value', "notes.mark('None', { 'two words': 'x' })",
    'notes.mark: argument 2 (counts)["two words"] must be a number, got a string'],
  ['every variant, right', "notes.mark({ kind: 'Color', value: [1, 2] }, { a: 1 })", null],
  ['a hole in an array', "notes.put('k', [1, , 3])",
    'notes.put: argument 2 (value)[1] is undefined, which cannot be sent'],
  ['a Map', "notes.put('k', new Map([[1, 2]]))",
    'notes.put: argument 2 (value) is a Map, which cannot be sent'],
  ['a Set', "notes.save({ title: 't', tags: [], extra: new Set() })",
    'notes.save: argument 1 (note).extra is a Set, which cannot be sent'],
  ['a Date', "notes.record([{ title: 't', tags: [], extra: new Date(0) }])",
    'notes.record: argument 1 (notes)[0].extra is a Date, which cannot be sent'],
  ['a RegExp', "notes.put('k', { pattern: /x/ })",
    'notes.put: argument 2 (value).pattern is a RegExp, which cannot be sent'],
  // Bytes are plain data: they travel as MessagePack `bin`.
  ['a typed array', "notes.put('k', { bytes: new Uint8Array(2) })", null],
  ['an ArrayBuffer', "notes.put('k', [new ArrayBuffer(2)])", null],
  ['a class instance', "notes.put('k', { at: new (class Point { constructor() { this.x = 1; } })() })",
    'notes.put: argument 2 (value).at is an instance of Point, which cannot be sent', 'copied'],
  ['a cycle', `notes.save(${cycle})`,
    'notes.save: argument 1 (note).extra.parent is a cycle (a reference back to argument 1 (note)), which cannot be sent', 'refused by contextBridge'],
  ['a key that is not an identifier', "notes.put('k', { 'two words': () => 1 })",
    'notes.put: argument 2 (value)["two words"] is a function, which cannot be sent'],
  ['a symbol key', "notes.put('k', { [Symbol('key')]: 1 })",
    'notes.put: argument 2 (value) is an object with a symbol key, which cannot be sent', 'copied'],
  ['the shape check first', "notes.save([() => 1])",
    'notes.save: argument 1 (note) must be an object, got an array'],
  // Plain data of every kind is accepted.
  ['an undefined property (absent)', "notes.save({ title: 't', tags: [], extra: undefined })", null],
  ['a null-prototype object', "notes.put('k', Object.assign(Object.create(null), { a: [1, 'b', null, true, { c: 2.5 }] }))", null],
  ['a value shared twice (not a cycle)', "(() => { const shared = { a: 1 }; return notes.put('k', [shared, { again: shared }]); })()", null],
  ['a send of plain notes', "notes.record([{ title: 't', tags: ['x'], extra: { n: -0 } }])", null],
];

// Runs `call` in the page's world; reports what it threw, or that it returned.
function attempt(window, call) {
  return window.evaluate(`(() => {
    try {
      const result = ${call.replace(/\bnotes\./g, 'globalThis.notes.')};
      if (result && typeof result.catch === 'function') result.catch(() => {});
      return { returned: true };
    } catch (error) {
      return { name: error.name, message: error.message, pageTypeError: error instanceof TypeError };
    }
  })()`);
}

const MODES = [
  ['context isolation, Electron 35+ (executeInMainWorld)', { contextIsolated: true }, false],
  ['context isolation, older Electron (exposeInMainWorld only)', { contextIsolated: true, executeInMainWorld: false }, true],
  ['no context isolation', { contextIsolated: false }, false],
];

for (const [mode, windowOptions, olderElectron] of MODES) {
  describe(`refused values: preload, ${mode}`, () => {
    for (const [what, call, message, olderElectronOutcome] of CASES) {
      it(message === null ? `accepts ${what}` : `refuses ${what}`, () => {
        const ipcMain = new FakeIpcMain();
        const window = createWindow({ ipcMain, preloadSource: bindings.read('preload.js'), ...windowOptions });
        const outcome = attempt(window, call);
        const differs = olderElectron ? olderElectronOutcome : undefined;
        if (message === null || differs === 'copied') {
          assert.deepEqual({ ...outcome }, { returned: true });
          return;
        }
        if (differs === 'refused by contextBridge') {
          assert.equal(outcome.returned, undefined, 'contextBridge refuses it before the preload sees it');
          assert.doesNotMatch(outcome.message, /which cannot be sent/);
        } else {
          assert.equal(outcome.message, message);
          // exposeInMainWorld turns an Error of the preload into a plain Error of the page.
          if (olderElectron) assert.equal(outcome.name, 'Error');
          else assert.ok(outcome.pageTypeError, `${outcome.name} is a TypeError of the page`);
        }
        assert.deepEqual(ipcMain.received, [], 'nothing was sent');
      });
    }
  });
}

describe('refused values: browser client', () => {
  let client;
  let notes;
  let socket;

  before(async () => {
    client = await import(pathToFileURL(bindings.path('client.mjs')).href);
    class ScriptedWebSocket {
      constructor() {
        socket = this;
        this.sent = [];
        setImmediate(() => this.onopen());
      }

      send(data) {
        const frame = typeof data === 'string' ? JSON.parse(data) : unpackFrame(data);
        this.sent.push(frame);
        if (frame.t === 'hello') {
          setImmediate(() => this.onmessage({ data: JSON.stringify({ t: 'hello', protocol: 1, role: 'main', codec: 'json', contracts: CONTRACTS, renderer: 1 }) }));
        }
      }

      close() {}
    }
    notes = await client.connect('ws://x', { WebSocket: ScriptedWebSocket });
  });

  for (const [what, call, message] of CASES) {
    it(message === null ? `accepts ${what}` : `refuses ${what}`, () => {
      const before = socket.sent.length;
      // The same source as in the page, evaluated in this realm with `notes` in scope.
      const run = new Function('notes', `return ${call};`);
      if (message === null) {
        const result = run(notes);
        if (result && typeof result.catch === 'function') result.catch(() => {});
        assert.equal(socket.sent.length, before + 1);
        return;
      }
      assert.throws(() => run(notes), (error) => {
        assert.ok(error instanceof TypeError, `${error} is a TypeError`);
        assert.equal(error.message, message);
        return true;
      });
      assert.equal(socket.sent.length, before, 'nothing was sent');
    });
  }
});
