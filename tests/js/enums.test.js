'use strict';
// Every enum representation serde has, round-tripped from JavaScript against a real Rust main,
// through the generated preload and bridge (every modelled Electron world) and through the
// generated browser client: the examples' Todos contract keeps a page's `View` (`set_view`,
// `view`), whose `order` is externally tagged (unit, struct and newtype variants), `filters`
// internally tagged, `page` adjacently tagged (unit, tuple and newtype variants) and `pinned`
// untagged, with small integers nested in variants (checked for their range) and a `Vec<u8>`
// declared as bytes. Each kind of wrong nested value is refused at the caller with a TypeError
// naming its path, and nothing crosses.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');

const { realBrowserClient } = require('./support/peers');
const { startSession } = require('./support/session');

const MODES = [
  { name: 'context isolation, Electron 35+ (executeInMainWorld)', window: { contextIsolated: true }, realErrors: true },
  // contextBridge.exposeInMainWorld copies an Error's message only, into a plain `Error`.
  { name: 'context isolation, older Electron (exposeInMainWorld only)', window: { contextIsolated: true, executeInMainWorld: false }, realErrors: false },
  { name: 'no context isolation', window: { contextIsolated: false }, realErrors: true },
];

// One view per variant of each enum (zipped: the longest list sets the count).
const ORDERS = ['newest', 'oldest', { by_title: { descending: true } }, { by_due: false }];
const FILTERS = [[], [{ by: 'done', done: false }], [{ by: 'title', contains: 'milk' }, { by: 'all' }]];
const PAGES = [{ t: 'all' }, { t: 'range', c: [4294967295, 20] }, { t: 'after', c: 0 }];
const PINNED = [[], [7, 'milk'], ['', 0, 4294967295]];
const ICONS = [null, new Uint8Array(0), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 255])];

function views() {
  const count = Math.max(ORDERS.length, FILTERS.length, PAGES.length, PINNED.length, ICONS.length);
  return Array.from({ length: count }, (_, i) => ({
    order: ORDERS[i % ORDERS.length],
    filters: FILTERS[i % FILTERS.length],
    page: PAGES[i % PAGES.length],
    pinned: PINNED[i % PINNED.length],
    icon: ICONS[i % ICONS.length],
  }));
}

/**
 * `value` as plain data of this world (objects and arrays of the page's world have other
 * prototypes), its bytes as arrays of numbers, so that views from any world compare.
 */
function comparable(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Object.prototype.toString.call(value) === '[object Uint8Array]') return { bytes: Array.from(value) };
  if (Array.isArray(value)) return Array.from(value, comparable);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, comparable(item)]));
}

/** The round trips every client must pass: `api()` is the page's API (or the client's). */
function roundTrips(api, wire, realErrors = true) {
  it('round-trips externally, internally, adjacently tagged and untagged enums, nested', async () => {
    const todos = api();
    for (const view of views()) {
      const back = await todos.setView(view);
      assert.deepEqual(comparable(back), comparable(view));
      assert.deepEqual(comparable(await todos.view()), comparable(view), 'kept by main');
    }
  });

  it('gets a value main changed inside a variant, and bytes as a Uint8Array of the caller', async () => {
    const todos = api();
    const back = await todos.setView({ order: { by_due: true }, filters: [], page: { t: 'range', c: [3, 65535] }, pinned: [], icon: Uint8Array.from([1, 2]) });
    assert.deepEqual(comparable(back.page), { t: 'range', c: [3, 1000] }, 'the count capped by main');
    assert.equal(Object.prototype.toString.call(back.icon), '[object Uint8Array]');
    assert.deepEqual(Array.from(back.icon), [1, 2]);
  });

  it('sends each representation as serde reads it', async () => {
    const todos = api();
    await todos.setView({ order: { by_title: { descending: false } }, filters: [{ by: 'done', done: true }], page: { t: 'after', c: 9 }, pinned: [1, 'x'], icon: null });
    const frame = wire().filter((f) => f.t === 'invoke' && f.ch === 'todos:set_view').pop();
    assert.deepEqual(comparable(Array.from(frame.args)), [{
      order: { by_title: { descending: false } },
      filters: [{ by: 'done', done: true }],
      page: { t: 'after', c: 9 },
      pinned: [1, 'x'],
      icon: null,
    }]);
  });

  it('refuses each kind of wrong nested value with a TypeError naming its path, and sends nothing', async (t) => {
    const todos = api();
    const good = { order: 'newest', filters: [], page: { t: 'all' }, pinned: [], icon: null };
    const before = wire().length;
    const cases = [
      // Externally tagged: an unknown unit variant, a wrong field inside a struct variant, a
      // newtype variant's value.
      [{ ...good, order: 'sideways' }, /argument 1 \(view\)\.order must be an object or one of "newest", "oldest", got a string/],
      [{ ...good, order: { by_title: { descending: 'yes' } } }, /argument 1 \(view\)\.order\.by_title\.descending must be a boolean, got a string/],
      [{ ...good, order: { by_due: 1 } }, /argument 1 \(view\)\.order\.by_due must be a boolean, got the number 1/],
      // Internally tagged: an unknown tag, a wrong field of a known one.
      [{ ...good, filters: [{ by: 'done', done: false }, { by: 'colour' }] }, /argument 1 \(view\)\.filters\[1\]\.by must be one of "done", "title", "all", got a string/],
      [{ ...good, filters: [{ by: 'title', contains: 5 }] }, /argument 1 \(view\)\.filters\[0\]\.contains must be a string, got the number 5/],
      // Adjacently tagged: a tuple variant's integer out of its range, below zero, not whole;
      // a newtype variant's content.
      [{ ...good, page: { t: 'range', c: [0, 65536] } }, /argument 1 \(view\)\.page\.c\[1\] must be an integer from 0 to 65535, got the number 65536/],
      [{ ...good, page: { t: 'range', c: [-1, 5] } }, /argument 1 \(view\)\.page\.c\[0\] must be an integer from 0 to 4294967295, got the number -1/],
      [{ ...good, page: { t: 'after', c: 1.5 } }, /argument 1 \(view\)\.page\.c must be an integer from 0 to 4294967295, got the number 1\.5/],
      [{ ...good, page: { t: 'range', c: [1] } }, /argument 1 \(view\)\.page\.c must be an array of 2 items/],
      [{ ...good, page: { t: 'first', c: 1 } }, /argument 1 \(view\)\.page\.t must be one of "all", "range", "after", got a string/],
      // Untagged: a value none of the variants holds, an integer none holds.
      [{ ...good, pinned: [1, true] }, /argument 1 \(view\)\.pinned\[1\] must be an integer from 0 to 4294967295 or a string, got true/],
      [{ ...good, pinned: [-3] }, /argument 1 \(view\)\.pinned\[0\] must be an integer from 0 to 4294967295 or a string, got the number -3/],
      // Inside an Option: bytes or null, not text or numbers.
      [{ ...good, icon: 'iVBORw==' }, /argument 1 \(view\)\.icon must be bytes \(a Uint8Array\) or null, got a string/],
      [{ ...good, icon: [1, 2] }, /argument 1 \(view\)\.icon must be bytes \(a Uint8Array\) or null, got an array/],
      // A struct's field of the wrong kind.
      [{ ...good, filters: {} }, /argument 1 \(view\)\.filters must be an array/],
    ];
    for (const [view, message] of cases) {
      await assert.rejects(async () => todos.setView(view), (error) => {
        if (realErrors) assert.equal(error.name, 'TypeError', String(error.message));
        assert.match(error.message, message);
        return true;
      }, JSON.stringify(view));
    }
    t.diagnostic(`${cases.length} refused, nothing crossed`);
    assert.equal(wire().length, before);
  });
}

for (const mode of MODES) {
  describe(`enums through the preload and the bridge: ${mode.name}`, () => {
    let session;
    let page;
    before(async () => {
      session = await startSession();
      page = session.open(mode.window).page;
    });
    after(async () => {
      await session.close();
    });
    roundTrips(() => page.global.todos, () => session.rust.toRust, mode.realErrors);
  });
}

describe('enums through the browser client', () => {
  const browser = realBrowserClient();
  roundTrips(browser.api, browser.sent);
});
