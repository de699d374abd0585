#!/usr/bin/env bash
# Runs the IPC benchmarks (tests/benches/ipc.rs: calls; tests/benches/streams.rs: streams and
# ports) and prints this project's times next to the raw floor (mpsc+oneshot in-process,
# length-prefixed frames on a Unix socket) and a peer (tarpc for calls, remoc for streams), as
# ratios.
#
#   scripts/bench.sh                 run every benchmark, then print the tables
#   scripts/bench.sh small_seq       pass arguments to criterion (here: a name filter)
#   scripts/bench.sh --report-only   print the table from the last run's results
#
# Results are read from criterion's estimates (the mean's point estimate) under $CRITERION_HOME
# if set (criterion writes there too), else $CARGO_TARGET_DIR/criterion (default:
# target/criterion in the workspace).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--report-only" ]]; then
    report_only=1
    shift
else
    cargo bench -p ipc-tests --bench ipc -- "$@"
    cargo bench -p ipc-tests --bench streams -- "$@"
fi

criterion_dir="${CRITERION_HOME:-${CARGO_TARGET_DIR:-target}/criterion}"
if [[ ! -d "$criterion_dir" ]]; then
    echo "no criterion results in $criterion_dir (run without --report-only first)" >&2
    exit 1
fi

python3 - "$criterion_dir" <<'PY'
import json
import os
import sys

root = sys.argv[1]
CALLERS = 64


def mean_ns(group, bench):
    path = os.path.join(root, group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["mean"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt_time(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def verdict(checks):
    """checks: list of (value, ok?) where value None means not measured."""
    if not checks:
        return ""
    if any(v is None for v, _ in checks):
        return "?"
    return "ok" if all(ok for _, ok in checks) else "MISS"


# (group, label, ours, floor, tarpc, floor limit or None, must beat tarpc?)
# small_c64 times are per iteration = 64 calls; shown per call.
rows = []
for group, shape, per in (("small_seq", "16 B, sequential", 1), ("small_c64", "16 B, 64 callers", CALLERS)):
    rows += [
        (group, f"{shape}, in-process", "ours_inproc", "raw_mpsc", "tarpc_inproc", 1.5, True, per),
        (group, f"{shape}, unix binary", "ours_unix_binary", "raw_unix", "tarpc_unix", 1.3, True, per),
        (group, f"{shape}, unix json", "ours_unix_json", "raw_unix", "tarpc_unix", None, False, per),
    ]
rows += [
    ("small_seq", "16 B, sequential, in-process, no deadline (info)", "ours_inproc_nodeadline", "raw_mpsc", "tarpc_inproc", None, False, 1),
    ("small_seq", "16 B, sequential, unix binary, no deadline (info)", "ours_unix_binary_nodeadline", "raw_unix", "tarpc_unix", None, False, 1),
    ("small_c64", "16 B, 64 callers, in-process, no deadline (info)", "ours_inproc_nodeadline", "raw_mpsc", "tarpc_inproc", None, False, CALLERS),
    ("small_c64", "16 B, 64 callers, unix binary, no deadline (info)", "ours_unix_binary_nodeadline", "raw_unix", "tarpc_unix", None, False, CALLERS),
    ("small_seq", "16 B, sequential, raw unix mux (info)", "raw_unix_mux", "raw_unix", "tarpc_unix", None, False, 1),
    ("small_seq", "16 B, sequential, in-process, through a handle (info)", "ours_handle_inproc", "raw_mpsc", "tarpc_inproc", None, False, 1),
    ("small_seq", "16 B, sequential, unix binary, through a handle (info)", "ours_handle_unix_binary", "raw_unix", "tarpc_unix", None, False, 1),
    ("small_c64", "16 B, 64 callers, unix binary, through a handle (info)", "ours_handle_unix_binary", "raw_unix", "tarpc_unix", None, False, CALLERS),
    ("bytes_1mib", "1 MiB, in-process", "ours_inproc", "raw_mpsc", "tarpc_inproc", None, False, 1),
    ("bytes_1mib", "1 MiB, unix binary", "ours_unix_binary", "raw_unix", "tarpc_unix", None, False, 1),
    ("bytes_1mib", "1 MiB, unix json", "ours_unix_json", "raw_unix", "tarpc_unix", None, False, 1),
    ("bytes_8mib", "8 MiB (chunked), unix binary", "ours_unix_binary", "raw_unix", "tarpc_unix", None, False, 1),
]

header = ("scenario", "ours", "floor", "tarpc", "ours/floor", "ours/tarpc", "target", "")
table = [header]
for group, label, ours, floor, peer, limit, beat_tarpc, per in rows:
    o, f, t = (mean_ns(group, b) for b in (ours, floor, peer))
    if group == "small_c64":
        o, f, t = (None if x is None else x / per for x in (o, f, t))
    rf, rt = ratio(o, f), ratio(o, t)
    checks, target = [], []
    if limit is not None:
        checks.append((rf, rf is not None and rf <= limit))
        target.append(f"floor<={limit}x")
    if beat_tarpc:
        checks.append((rt, rt is not None and rt < 1.0))
        target.append("tarpc<1x")
    table.append((label, fmt_time(o), fmt_time(f), fmt_time(t), fmt_ratio(rf), fmt_ratio(rt),
                  ", ".join(target), verdict(checks)))

widths = [max(len(r[i]) for r in table) for i in range(len(header))]
print()
print("Mean time per call (small_c64: per call, amortized over 64 concurrent callers).")
print("floor = raw_mpsc (in-process) or raw_unix (socket; with 64 callers a minimal multiplexer);")
print("tarpc = tarpc_inproc or tarpc_unix. 'no deadline' rows: RendererOptions::no_default_timeout().")
print()
for i, r in enumerate(table):
    print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if i == 0:
        print("  ".join("-" * w for w in widths))

print()
print("A call through a capability handle against a plain invoke of the same shape (target <= 1.1x):")
for group, per, plain, handle in (("small_seq", 1, "ours_inproc", "ours_handle_inproc"),
                                  ("small_seq", 1, "ours_unix_binary", "ours_handle_unix_binary"),
                                  ("small_c64", CALLERS, "ours_unix_binary", "ours_handle_unix_binary")):
    p, h = mean_ns(group, plain), mean_ns(group, handle)
    r = ratio(h, p)
    verdict_text = "?" if r is None else ("ok" if r <= 1.1 else "MISS")
    p, h = (None if x is None else x / per for x in (p, h))
    print(f"  {group:<9} {handle:<24} {fmt_time(h):>10} vs {plain:<17} {fmt_time(p):>10}  {fmt_ratio(r)}  {verdict_text}")
print()
base8, ours8 = mean_ns("bytes_8mib", "raw_unix"), mean_ns("bytes_8mib", "ours_unix_binary")
if base8 is not None and ours8 is not None:
    pct = base8 / ours8 * 100
    print(f"8 MiB round trip (chunks of 4 MiB): ours_unix_binary {8e9 / ours8:.0f} MiB/s, "
          f"{pct:.0f}% of raw_unix's {8e9 / base8:.0f} MiB/s (target >= 90%: "
          + ("ok" if pct >= 90 else "MISS") + ")")
print()
print("1 MiB round trip: payload throughput (1 MiB per round trip), as % of its floor's:")
for floor, benches in (("raw_unix", ("raw_unix", "ours_unix_binary", "ours_unix_json", "tarpc_unix")),
                       ("raw_mpsc", ("raw_mpsc", "ours_inproc", "tarpc_inproc"))):
    base = mean_ns("bytes_1mib", floor)
    for bench in benches:
        ns = mean_ns("bytes_1mib", bench)
        if ns is None:
            print(f"  {bench:<17} -")
            continue
        mibps = 1e9 / ns
        pct = "-" if base is None else f"{base / ns * 100:.0f}%"
        note = ""
        if bench == "ours_unix_binary" and base is not None:
            note = "  (target >= 80%: " + ("ok" if base / ns >= 0.8 else "MISS") + ")"
        print(f"  {bench:<17} {mibps:9.0f} MiB/s  {pct:>6} of {floor}{note}")

print()
print("Streams from main to a renderer (tests/benches/streams.rs), one whole stream per iteration.")
small = {b: mean_ns("stream_small", b) for b in ("ours_unix_binary", "ours_unix_json", "ours_inproc", "raw_unix", "raw_mpsc", "remoc_unix")}
chunks = {b: mean_ns("stream_1mib", b) for b in small}
ITEMS, CHUNKS = 1_000_000, 64
print("  1,000,000 items of 16 B, per item:")
for bench, ns in small.items():
    if ns is None:
        print(f"    {bench:<17} -")
        continue
    vs_raw = ratio(ns, small["raw_unix"])
    vs_remoc = ratio(ns, small["remoc_unix"])
    note = ""
    if bench == "ours_unix_binary":
        note = ("  (targets <= 2x raw_unix: " + ("ok" if vs_raw is not None and vs_raw <= 2 else "MISS")
                + ", ahead of remoc: " + ("ok" if vs_remoc is not None and vs_remoc < 1 else "MISS") + ")")
    print(f"    {bench:<17} {fmt_time(ns / ITEMS):>10}  {fmt_ratio(vs_raw):>7} of raw_unix  {fmt_ratio(vs_remoc):>7} of remoc{note}")
print("  64 chunks of 1 MiB, throughput:")
for bench, ns in chunks.items():
    if ns is None:
        print(f"    {bench:<17} -")
        continue
    mibps = CHUNKS * 1e9 / ns
    pct = "-" if chunks["raw_unix"] is None else f"{chunks['raw_unix'] / ns * 100:.0f}%"
    note = ""
    if bench == "ours_unix_binary" and chunks["raw_unix"] is not None:
        note = "  (target >= 90% of raw_unix: " + ("ok" if chunks["raw_unix"] / ns >= 0.9 else "MISS") + ")"
    print(f"    {bench:<17} {mibps:9.0f} MiB/s  {pct:>6} of raw_unix{note}")
trips = {b: mean_ns("port_round_trip", b) for b in ("ours_one_hop", "ours_relayed", "raw_unix")}
print("  A 16 B message and its answer on a port (relaying through main, ARCHITECTURE.md):")
for bench, ns in trips.items():
    print(f"    {bench:<17} {fmt_time(ns):>10}  {fmt_ratio(ratio(ns, trips['raw_unix'])):>7} of raw_unix")
PY

# The JavaScript peers: the Electron bridge's path (bridge.js in Node to a Rust main over stdio)
# and the browser client's (client.mjs to a Rust main over a WebSocket), small invokes and 1 MiB
# of bytes each way, next to a plain Node stdio peer. Skipped with --report-only or without node.
if [[ "${report_only:-0}" != 1 ]] && command -v node > /dev/null 2>&1; then
    cargo build --quiet --release -p ipc-tests --example todos_main_stdio --example browser
    target_dir="$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    echo
    node --experimental-websocket --expose-gc --no-warnings scripts/bench-js.js \
        "$target_dir/release/examples/todos_main_stdio" "$target_dir/release/examples/browser" 20000
fi
