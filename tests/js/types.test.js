'use strict';
// `tsc --strict` over the generated declarations: a sample renderer using every method kind
// through `window.todos` type-checks, samples with a wrong argument type or a wrong `onLag` do
// not, the browser client's declarations type-check, and so do the Rust golden files'
// declarations. Streams, ports and requests (IpcStream, IpcStreamSource, IpcPort, handleX) are
// checked on the golden `todos` contract's declarations.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');

const { ROOT, generate } = require('./support/setup');
const { portBindings } = require('./support/peers');

const TSC = require.resolve('typescript/bin/tsc');
const OPTIONS = [
  '--strict', '--noEmit', '--pretty', 'false',
  '--target', 'es2022', '--lib', 'es2022,dom',
  '--module', 'esnext', '--moduleResolution', 'bundler',
];

/** Copies the generated declarations and the given samples into a fresh directory. */
function workspace(samples, bindings = generate()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-tsc-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const file of ['todos.d.ts', 'client.d.mts']) fs.copyFileSync(bindings.path(file), path.join(dir, file));
  for (const sample of samples) fs.copyFileSync(path.join(__dirname, 'types', sample), path.join(dir, sample));
  return dir;
}

function tsc(dir, files) {
  const result = spawnSync(process.execPath, [TSC, ...OPTIONS, ...files], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('TypeScript declarations', () => {
  it('type-check a renderer that uses every method kind of window.todos', () => {
    const dir = workspace(['renderer-ok.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('refuse a wrong argument type', () => {
    const dir = workspace(['renderer-bad.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad\.ts\(3,26\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'\./);
  });

  it('refuse an onLag that does not take a number', () => {
    const dir = workspace(['renderer-bad-lag.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-lag.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-lag\.ts\(3,38\): error TS2322: Type '\(missed: string\) => void' is not assignable to type '\(missed: number\) => void'\./);
  });

  it('type a sync call as its value, not a promise', () => {
    const dir = workspace(['renderer-bad-sync.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-sync.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-sync\.ts\(3,9\): error TS2739: Type 'Todo' is missing the following properties from type 'Promise<number>'/);
  });

  it('type a timestamp as a Date, not as its text', () => {
    const dir = workspace(['renderer-bad-date.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-date.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-date\.ts\(3,31\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'Date'\./);
  });

  it('type a 64-bit integer of a bigint contract as a bigint', () => {
    const dir = workspace(['renderer-bad-bigint.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-bigint.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-bigint\.ts\(3,\d+\): error TS2322: Type 'number' is not assignable to type 'bigint'\./);
  });

  it('type bytes as a Uint8Array and every enum representation exactly', () => {
    const dir = workspace(['renderer-bad-bytes.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-bytes.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-bytes\.ts\(3,32\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'Uint8Array(<ArrayBufferLike>)?'\./);
    assert.match(output, /renderer-bad-bytes\.ts\(4,\d+\): error TS2740: Type 'number\[\]' is missing the following properties from type 'Uint8Array/);
    assert.match(output, /renderer-bad-bytes\.ts\(5,\d+\): error TS2322: Type '"colour"' is not assignable to type '"all" \| "title" \| "done"'/);
  });

  it('make a method the policy may hide optional', () => {
    const dir = workspace(['renderer-bad-policy.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'renderer-bad-policy.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /renderer-bad-policy\.ts\(4,\d+\): error TS2722: Cannot invoke an object which is possibly 'undefined'\./);
  });

  it('type-check the browser client', () => {
    const dir = workspace(['client-ok.ts']);
    const { status, output } = tsc(dir, ['client-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('type-check streams, uploads, ports and requests, and refuse what their types do not allow', () => {
    const dir = workspace(['ports-ok.ts'], portBindings());
    const { status, output } = tsc(dir, ['todos.d.ts', 'ports-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('refuse a stream argument of the wrong item type', () => {
    const dir = workspace(['ports-bad.ts'], portBindings());
    const { status, output } = tsc(dir, ['todos.d.ts', 'ports-bad.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /ports-bad\.ts\(3,29\): error TS2345: Argument of type 'number\[\]' is not assignable to parameter of type 'IpcStreamSource<string>'\./);
  });

  it('refuse a port message of the wrong type', () => {
    const dir = workspace(['ports-bad-port.ts'], portBindings());
    const { status, output } = tsc(dir, ['todos.d.ts', 'ports-bad-port.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /ports-bad-port\.ts\(3,43\): error TS2345: Argument of type '\{ line: string; \}' is not assignable to parameter of type 'string'\./);
  });

  it('type-check the browser client\'s stream and port classes', () => {
    const dir = workspace(['ports-client-ok.ts'], portBindings());
    const { status, output } = tsc(dir, ['ports-client-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('type a capability handle as an object with its contract\'s methods, release and released', () => {
    const dir = workspace(['handles-ok.ts', 'handles-client-ok.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'handles-ok.ts', 'handles-client-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('refuse a wrong argument to a capability handle\'s method', () => {
    const dir = workspace(['handles-bad.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'handles-bad.ts']);
    assert.notEqual(status, 0);
    assert.match(output, /handles-bad\.ts\(3,24\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'\./);
  });

  it('type an object the page serves as a capability (IpcObject), with its methods\' arguments and answers', () => {
    const dir = workspace(['objects-ok.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'objects-ok.ts']);
    assert.equal(output, '');
    assert.equal(status, 0);
  });

  it('refuse an object whose methods take the wrong arguments, answer the wrong type or are missing', () => {
    const dir = workspace(['objects-bad.ts']);
    const { status, output } = tsc(dir, ['todos.d.ts', 'objects-bad.ts']);
    assert.notEqual(status, 0);
    const errors = output.split('\n').filter((line) => /objects-bad\.ts\(\d+,\d+\): error/.test(line));
    assert.deepEqual(errors.map((line) => line.match(/\((\d+),/)[1]), ['2', '3', '4'], output);
  });

  it('type-check every golden declaration file', () => {
    const golden = path.join(ROOT, 'schema', 'tests', 'golden');
    const dirs = fs.readdirSync(golden, { withFileTypes: true }).filter((e) => e.isDirectory());
    assert.ok(dirs.length >= 2, `golden directories under ${golden}`);
    for (const entry of dirs) {
      const dir = path.join(golden, entry.name);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.d.ts') || f.endsWith('.d.mts'));
      assert.equal(files.length, 2, dir);
      const { status, output } = tsc(dir, files);
      assert.equal(output, '', dir);
      assert.equal(status, 0, dir);
    }
  });
});
