#!/usr/bin/env bash
# Runs every test suite of the workspace. Installs what the suites need on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== rustfmt"
cargo fmt --all -- --check

echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== tests (unit, integration, UI, doc)"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "== examples"
cargo run --quiet --example quickstart > /dev/null
cargo run --quiet --example multiprocess > /dev/null
echo "== JavaScript bindings (node --test: preload, bridge, browser client; tsc --strict)"
if command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1; then
  (cd tests/js && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  cargo build --quiet -p ipc-tests --example todos_main_stdio
  cargo build --quiet -p ipc-schema --bin ipc-bindgen
  target_dir="$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
  (cd tests/js && IPC_TODOS_MAIN="$target_dir/debug/examples/todos_main_stdio" \
    IPC_BINDGEN="$target_dir/debug/ipc-bindgen" npm test --silent)
else
  echo "node and npm not found: skipping the JavaScript tests"
fi
echo "all suites passed"
