'use strict';
// Finds (or builds) the Rust binaries the tests need and generates the bindings under test.
//
// scripts/test.sh builds them first and passes their paths in IPC_TODOS_MAIN (the examples'
// Todos contract served over stdio) and IPC_BINDGEN (the generator's command-line tool); without
// those variables the binaries are built here with cargo.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function cargoBuild(args, name) {
  const output = execFileSync('cargo', ['build', '--quiet', '--message-format=json', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  let executable = null;
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.executable && message.target.name === name) {
      executable = message.executable;
    }
  }
  if (executable === null) throw new Error(`cargo build ${args.join(' ')} produced no executable ${name}`);
  return executable;
}

let cached = null;
function binaries() {
  if (cached === null) {
    cached = {
      todosMain: process.env.IPC_TODOS_MAIN
        || cargoBuild(['-p', 'ipc-tests', '--example', 'todos_main_stdio'], 'todos_main_stdio'),
      bindgen: process.env.IPC_BINDGEN
        || cargoBuild(['-p', 'ipc-schema', '--bin', 'ipc-bindgen'], 'ipc-bindgen'),
    };
  }
  return cached;
}

const generated = new Map();
/**
 * Generates bindings into a fresh directory; returns { dir, schema, read, path }. The contract is
 * the Todos example's, or the one of the schema file `options.schema`.
 */
function generate(options = {}) {
  const id = JSON.stringify(options);
  if (generated.has(id)) return generated.get(id);
  const { bindgen } = binaries();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-js-'));
  process.on('exit', () => fs.rmSync(base, { recursive: true, force: true }));
  let schema = options.schema;
  if (schema === undefined) {
    schema = path.join(base, 'todos.json');
    fs.writeFileSync(schema, execFileSync(binaries().todosMain, ['--schema'], { encoding: 'utf8' }));
  }
  const dir = path.join(base, 'out');
  const args = ['--schema', schema, '--out', dir];
  if (options.key) args.push('--key', options.key);
  if (options.isolation) args.push('--isolation', options.isolation);
  execFileSync(bindgen, args, { encoding: 'utf8' });
  const result = {
    dir,
    schema,
    read: (file) => fs.readFileSync(path.join(dir, file), 'utf8'),
    path: (file) => path.join(dir, file),
  };
  generated.set(id, result);
  return result;
}

/** Polls `check` (async) until it returns a truthy value or the time runs out. */
async function eventually(check, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

module.exports = { ROOT, binaries, generate, eventually };
