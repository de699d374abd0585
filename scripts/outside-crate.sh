#!/usr/bin/env bash
# A crate of one's own, outside this workspace (tests/outside: the README's first steps): copied
# to a temporary directory with a path dependency on this checkout's ipc-runtime, it runs (main,
# a window in process and a child renderer process), writes its web bindings with the README's
# schema-export step, and then checks them fresh with `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r tests/outside/. "$work/"
sed "s|{{IPC_RUNTIME}}|$root/ipc-runtime|" tests/outside/Cargo.toml.in > "$work/Cargo.toml"
rm "$work/Cargo.toml.in"
# Its own lock file, but this checkout's versions of what both use; its own target directory,
# kept between runs.
cp Cargo.lock "$work/Cargo.lock"
export CARGO_TARGET_DIR="$root/target/outside"
cd "$work"
cargo run --quiet
UPDATE_BINDINGS=1 cargo test --quiet --test bindings
for file in preload.js bridge.js client.mjs notes.d.ts; do
  [ -s "web/generated/$file" ] || { echo "outside crate: web/generated/$file was not written"; exit 1; }
done
cargo test --quiet --test bindings
echo "outside crate: built, ran, and exported its bindings"
