#!/usr/bin/env bash
# Runs every test suite of the workspace. Installs what the suites need on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# A suite that cannot run is skipped with a message on a developer's machine, but under CI a
# missing tool is a failure: "all suites passed" must mean every suite ran.
skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAILED: $1 (under CI=true nothing may be skipped)" >&2
    exit 1
  fi
  echo "$1: skipping"
  skipped="${skipped:-}$1; "
}

echo "== rustfmt"
cargo fmt --all -- --check

echo "== runtime layers (dependencies run one way)"
python3 scripts/check-layers.py

echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== rustdoc (broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

echo "== cargo package (each publishable crate builds from its package alone)"
# Cargo unpacks the packages it verifies into a folder of its home named after a hash of the
# temporary registry's path, and reuses what it finds there: a clone rerun at the same path would
# verify ipc-macros against an ipc-schema packaged by an earlier run. Only our own crates, and only
# from local registries (their folder names start with '-'), are removed.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ipc-{schema,macros,runtime}-*
cargo package --quiet -p ipc-schema -p ipc-macros -p ipc-runtime --allow-dirty

echo "== tests (unit, integration, UI, doc)"
# Bounded, so that a hang fails here, naming the test binary it was in, rather than running into
# CI's own limit with no word of where.
timeout 2400 cargo test --workspace --all-targets
timeout 1200 cargo test --workspace --doc

echo "== examples"
cargo build --quiet --example quickstart --example multiprocess
# Bounded, so that a hang shows as a failure with the renderers' words on stderr.
timeout 300 cargo run --quiet --example quickstart > /dev/null
timeout 300 cargo run --quiet --example multiprocess
echo "== a crate of one's own, outside the workspace (tests/outside: the README's first steps)"
timeout 900 bash scripts/outside-crate.sh
echo "== JavaScript bindings (node --test: preload, bridge, browser client; tsc --strict)"
if command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1; then
  (cd tests/js && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  cargo build --quiet -p ipc-tests --example todos_main_stdio
  cargo build --quiet -p ipc-schema --bin ipc-bindgen
  target_dir="$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
  (cd tests/js && IPC_TODOS_MAIN="$target_dir/debug/examples/todos_main_stdio" \
    IPC_BINDGEN="$target_dir/debug/ipc-bindgen" npm test --silent)
  echo "== Electron example: generated bindings up to date, page type-checks"
  "$target_dir/debug/examples/todos_main_stdio" --schema > "$target_dir/todos-schema.json"
  cmp -s "$target_dir/todos-schema.json" examples/electron/generated/schema.json \
    || { echo "examples/electron/generated/schema.json is stale: run 'npm run bindings' there"; exit 1; }
  "$target_dir/debug/ipc-bindgen" --schema examples/electron/generated/schema.json \
    --out examples/electron/generated --key todos --check
  tests/js/node_modules/.bin/tsc --noEmit --strict --allowJs --checkJs --lib es2022,dom \
    --target es2022 --module nodenext --moduleResolution nodenext \
    examples/electron/page/renderer.js examples/electron/generated/todos.d.ts
else
  skip_or_fail "node and npm not found, so the JavaScript tests cannot run"
fi

# ---- browser example in headless Chromium (tests/browser) -------------------------------------
# The browser example (examples/browser.rs) served to Debian's chromium, driven by playwright-core
# (which never downloads browsers): typed calls, errors, events, cancellation, and the WebSocket
# endpoint refusing wrong tokens and foreign origins. CHROMIUM=<path> uses another Chromium.
echo "== browser example in headless Chromium (tests/browser)"
if command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1 \
  && [ "$(node -p 'Number(process.versions.node.split(".")[0])')" -ge 20 ]; then
  if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium"
    as_root=""
    if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium > /dev/null
  fi
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  else
    (cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
  fi
  cargo build --quiet -p ipc-tests --example browser
  # An absolute path, CARGO_TARGET_DIR (even a relative one) and .cargo/config included.
  browser_target_dir="$(cargo metadata --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')"
  (cd tests/browser && IPC_BROWSER_EXAMPLE="$browser_target_dir/debug/examples/browser" \
    timeout 180 node --test --test-concurrency=1 --test-timeout=90000)
else
  skip_or_fail "node (20 or later) and npm not found, so the browser test cannot run"
fi
# ---- end of the browser block ------------------------------------------------------------------

# ---- fuzzing (fuzz/: cargo-fuzz on the nightly toolchain) --------------------------------------
# A short run of every fuzz target from the checked-in corpus (8 s each); long campaigns are
# scripts/fuzz.sh's. It installs cargo-fuzz if missing.
echo "== fuzz targets, 8 s each from the checked-in corpus (scripts/fuzz.sh all 8)"
if cargo +nightly --version > /dev/null 2>&1; then
  FUZZ_FRESH=1 scripts/fuzz.sh all 8
else
  skip_or_fail "the nightly toolchain is missing (rustup toolchain install nightly), so the fuzz targets cannot run"
fi
# ---- end of the fuzzing block ------------------------------------------------------------------

if [ -n "${skipped:-}" ]; then
  echo "all suites that could run passed; skipped: ${skipped}"
else
  echo "all suites passed"
fi
