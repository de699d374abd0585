#!/usr/bin/env bash
# A soak run (not part of the test suite): one main, 100 renderer processes with 64 calls in
# flight each, sends after every call, a tick event to everyone every millisecond, one renderer
# killed at random every second; reports calls/s, sends/s, events/s, lag, losses (must be 0) and
# main's memory every 5 s, and fails on any loss.
#
#   scripts/soak.sh                          60 s with the defaults
#   scripts/soak.sh --seconds 600            longer
#   scripts/soak.sh --renderers 20 --in-flight 8 --kill-every-ms 250
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -p ipc-tests --example soak -- "$@"
