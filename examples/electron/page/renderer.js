// @ts-check
/// <reference path="../generated/todos.d.ts" />
// The page's script: it only sees `window.todos`, typed by the generated todos.d.ts (checked by
// `tsc --checkJs` in an editor). No ipcRenderer, no Node, no raw channels.
'use strict';

const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const list = /** @type {HTMLElement} */ (document.getElementById('list'));
const errors = /** @type {HTMLElement} */ (document.getElementById('errors'));
const items = new Map();

/** @param {import('../generated/todos').Todo} todo */
function render(todo) {
  let li = items.get(todo.id);
  if (!li) {
    li = document.createElement('li');
    li.addEventListener('click', () => toggle(todo.id));
    items.set(todo.id, li);
    list.append(li);
  }
  li.textContent = `#${todo.id} ${todo.title}`;
  li.className = todo.done ? 'done' : '';
}

/** @param {number} id */
async function toggle(id) {
  try {
    render(await window.todos.toggle(id, { timeoutMs: 2000 }));
  } catch (error) {
    // An application error carries the Rust `TodoError` as data; a framework error has a code.
    const e = /** @type {any} */ (error);
    errors.textContent = e.name === 'IpcAppError' ? `no such todo: ${JSON.stringify(e.data)}` : `${e.code}: ${e.message}`;
  }
}

/** Renders the whole list again: after missed `changed` events, the page's copy is stale. */
async function resync() {
  for (const todo of await window.todos.list()) render(todo);
}

/** @param {unknown} error */
function showError(error) {
  const e = /** @type {any} */ (error);
  errors.textContent = e && e.code ? `${e.code}: ${e.message}` : String(error);
}

/**
 * Live changes, as a stream (`watch`): read with `for await`; the Stop button (or leaving the
 * page) cancels it, and main's producer stops.
 */
async function follow() {
  const feed = /** @type {HTMLElement} */ (document.getElementById('feed'));
  const stream = await window.todos.watch(1000);
  document.getElementById('stop-watch')?.addEventListener('click', () => stream.cancel(), { once: true });
  window.addEventListener('beforeunload', () => stream.cancel());
  for await (const todo of stream) {
    const li = document.createElement('li');
    const title = todo.title.length > 200 ? `${todo.title.slice(0, 200)}…` : todo.title;
    li.textContent = `#${todo.id} ${title}${todo.done ? ' (done)' : ''}`;
    feed.prepend(li);
  }
  status.textContent = 'live changes stopped';
}

/** A chat with main over a port (`chat`): each line comes back upper-cased. */
async function chat() {
  const answers = /** @type {HTMLElement} */ (document.getElementById('answers'));
  const port = await window.todos.chat();
  port.onMessage((line) => {
    const li = document.createElement('li');
    li.textContent = line;
    answers.append(li);
  });
  port.onClose((error) => { if (error) showError(error); });
  document.getElementById('chat')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (document.getElementById('line'));
    if (input.value && !port.closed) port.postMessage(input.value);
    input.value = '';
  });
  window.addEventListener('beforeunload', () => port.close());
}

async function start() {
  const dispose = window.todos.onChanged(render, {
    onLag: (missed) => {
      status.textContent = `missed ${missed} updates; reloading the list`;
      resync().catch((error) => { errors.textContent = `${error.code}: ${error.message}`; });
    },
  });
  window.todos.onAnnounce((message) => { status.textContent = message; });
  // Main may ask this page a question (a request from main): the page answers it.
  window.todos.handleConfirm((question) => window.confirm(question));
  // Main may introduce this window to another one: a port to talk to it.
  window.todos.onIntroduce((peer) => {
    peer.onMessage((line) => { status.textContent = `another window says: ${line}`; });
    peer.postMessage('hello from the Electron page');
  });
  await resync();
  status.textContent = 'connected to the Rust main';
  document.getElementById('add')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (document.getElementById('title'));
    if (input.value) await window.todos.add(input.value);
    window.todos.log(`added ${JSON.stringify(input.value)}`);
    input.value = '';
  });
  document.getElementById('import')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const area = /** @type {HTMLTextAreaElement} */ (document.getElementById('titles'));
    // A stream argument (an upload): any iterable of titles, sent as main asks for more.
    const lines = area.value.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    try {
      status.textContent = `imported ${await window.todos.import(lines)} todos`;
      area.value = '';
    } catch (error) {
      showError(error);
    }
  });
  window.addEventListener('beforeunload', dispose);
  follow().catch(showError);
  chat().catch(showError);
}

start().catch((error) => { status.textContent = `failed: ${error}`; });
