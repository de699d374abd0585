#!/usr/bin/env bash
# Coverage-guided fuzzing of the wire decoders and of main's sessions with cargo-fuzz (libFuzzer,
# nightly toolchain). The targets, their oracles and the corpus are described in fuzz/README.md.
#
#   scripts/fuzz.sh                     every target, an hour each (a long campaign)
#   scripts/fuzz.sh stream              one target, an hour
#   scripts/fuzz.sh all 8               every target, 8 seconds each (scripts/test.sh runs this
#                                       with FUZZ_FRESH=1)
#   scripts/fuzz.sh args 0 -runs=10000000   0 seconds: no time limit; more libFuzzer flags after
#   scripts/fuzz.sh merge [target]      add what the runs found that adds coverage to the
#                                       checked-in corpus (fuzz/corpus/<target>)
#
# The checked-in seeds (fuzz/corpus/<target>) are read, never written: new inputs go to
# fuzz/target/corpus/<target>, which later runs resume from. A crash leaves its input in
# fuzz/artifacts/<target>/ and fails the script (its log: fuzz/target/logs/<target>-*.log).
#
# FUZZ_FRESH=1 starts from the checked-in seeds alone, with a scratch directory for new inputs
# (removed afterwards): what scripts/test.sh does, so that its runs do not depend on earlier ones.
# FUZZ_SANITIZER=none builds without AddressSanitizer (about four times as many executions per
# second; the runtime itself has no unsafe code), into its own target directory.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(frame_json frame_binary frame_msgpack handshake stream args session capability)

if ! cargo +nightly --version > /dev/null 2>&1; then
  echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

sanitizer="${FUZZ_SANITIZER:-address}"
build_flags=(--sanitizer "$sanitizer")
if [ "$sanitizer" != "address" ]; then
  build_flags+=(--target-dir "fuzz/target/sanitizer-$sanitizer")
fi

targets_of() {
  if [ "${1:-all}" = "all" ]; then
    echo "${all_targets[@]}"
  else
    echo "$1"
  fi
}

if [ "${1:-}" = "merge" ]; then
  for target in $(targets_of "${2:-all}"); do
    echo "== merging fuzz/target/corpus/$target into fuzz/corpus/$target"
    mkdir -p "fuzz/target/corpus/$target"
    cargo +nightly fuzz run "${build_flags[@]}" "$target" "fuzz/corpus/$target" \
      "fuzz/target/corpus/$target" -- -merge=1 -rss_limit_mb=2048 -detect_leaks=0
  done
  exit 0
fi

target="${1:-all}"
seconds="${2:-3600}"
shift $(($# < 2 ? $# : 2))

# One build of every target (cargo fuzz run would build each on its own).
cargo +nightly fuzz build "${build_flags[@]}"
mkdir -p fuzz/target/logs
work=fuzz/target/corpus
if [ "${FUZZ_FRESH:-}" = "1" ]; then
  mkdir -p fuzz/target/tmp
  work="$(mktemp -d fuzz/target/tmp/corpus.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
fi
for t in $(targets_of "$target"); do
  mkdir -p "$work/$t" "fuzz/artifacts/$t"
  flags=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
  if [ "$seconds" != "0" ]; then flags+=("-max_total_time=$seconds"); fi
  # Each session leaves Tokio's runtime with more allocations than frees (its queues and timer
  # wheel grow and shrink lazily), which makes libFuzzer run LeakSanitizer after nearly every
  # input: 15 times slower. The runtime's state is reachable, so leaks would show as growth of
  # RSS instead (-rss_limit_mb).
  if [ "$t" = "session" ]; then flags+=(-detect_leaks=0); fi
  log="fuzz/target/logs/$t-$sanitizer.log"
  started=$(date +%s)
  if ! cargo +nightly fuzz run "${build_flags[@]}" "$t" "$work/$t" "fuzz/corpus/$t" \
    -- "${flags[@]}" "$@" > "$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "FAILED: fuzz target $t found a crash (input in fuzz/artifacts/$t/, log in $log)" >&2
    exit 1
  fi
  stats="$(grep -aE '^#[0-9]+' "$log" | tail -n 1 || true)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  cov="$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/cov \1, ft \2, corpus \3/p' <<< "$stats")"
  echo "fuzz $t: ${runs:-?} runs in $(($(date +%s) - started)) s (${rate:-?}/s), ${cov:-no stats}"
done
