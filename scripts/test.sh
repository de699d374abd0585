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
echo "all suites passed"
