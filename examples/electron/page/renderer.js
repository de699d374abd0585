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

async function start() {
  const dispose = window.todos.onChanged(render, {
    onLag: (missed) => {
      status.textContent = `missed ${missed} updates; reloading the list`;
      resync().catch((error) => { errors.textContent = `${error.code}: ${error.message}`; });
    },
  });
  window.todos.onAnnounce((message) => { status.textContent = message; });
  await resync();
  status.textContent = 'connected to the Rust main';
  document.getElementById('add')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (document.getElementById('title'));
    if (input.value) await window.todos.add(input.value);
    window.todos.log(`added ${JSON.stringify(input.value)}`);
    input.value = '';
  });
  window.addEventListener('beforeunload', dispose);
}

start().catch((error) => { status.textContent = `failed: ${error}`; });
