#!/usr/bin/env bash
# Side by side, on this machine, in one run: the pinned @architect/functions (Node) against this
# crate's criterion benches, then the cold start of the release routes beside the hello-world
# floor and Node (bench/coldstart.py), then one warm post-count serving 1 to 64 concurrent
# invocations (bench/concurrency.py).
# Prints Markdown tables; BENCHMARKS.md holds the figures of the last run.
#
#   bench/compare.sh [--quick] [--callgrind]
#
# --quick      short measurements, to check the script, not to quote
# --callgrind  also count instructions of the sealed round trip and the handler with valgrind
#              (repeatable where wall time is noisy) and print the hottest functions
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"

# Exact, so every run compares against the same code: the latest 8.x when this was written.
FUNCTIONS_VERSION="8.1.10"
# floor: the hello-world lambda_http function (bench/floor) the cold start is compared with;
# floor-one-thread: the same on a one-thread runtime, as http::start runs a route.
mapfile -t HTTP_FUNCTIONS < <(cargo run --quiet -p cargo-arc -- functions --http)
if ((${#HTTP_FUNCTIONS[@]} == 0)); then
	echo "cargo arc functions --http listed no route of app.arc" >&2
	exit 1
fi
ROUTES=("${HTTP_FUNCTIONS[@]/#/--bin=}" --bin floor --bin floor-one-thread)

QUICK=0 CALLGRIND=0
for arg in "$@"; do
	case "$arg" in
	--quick) QUICK=1 ;;
	--callgrind) CALLGRIND=1 ;;
	*) echo "usage: bench/compare.sh [--quick] [--callgrind]" >&2 && exit 2 ;;
	esac
done
# Criterion's defaults (3 s warm-up, 5 s of samples) and as long for each Node benchmark.
CRITERION_ARGS=() NODE_SECONDS=5 RUNS=20 CONCURRENCY=(--seconds 5)
if ((QUICK)); then
	CRITERION_ARGS=(--warm-up-time 1 --measurement-time 2) NODE_SECONDS=1.5 RUNS=5
	CONCURRENCY=(--seconds 1 --levels 1,16)
fi

# Build everything first, so that no compile overlaps a measurement.
log "building the benches and the release routes"
cargo bench -p arc-functions --bench sessions --bench dynamodb --no-run
ensure_cargo_lambda
cargo lambda build --release --compiler cargo "${ROUTES[@]}"

TMP="$(mktemp -d)"
_CLEANUP+=("rm -rf '$TMP'")
log "installing @architect/functions@$FUNCTIONS_VERSION into $TMP"
npm install --prefix "$TMP" --no-audit --no-fund --loglevel=error \
	"@architect/functions@$FUNCTIONS_VERSION" >/dev/null

# One dynalite for both languages, with the example app's session table.
start_dynalite "$SESSION_TABLE"

log "Node $(node --version): @architect/functions $FUNCTIONS_VERSION"
BENCH_SECONDS="$NODE_SECONDS" NODE_PATH="$TMP/node_modules" node bench/node.js >"$TMP/node.jsonl"

log "Rust: criterion"
rm -rf target/criterion # no stale estimates from an earlier run
cargo bench -p arc-functions --bench sessions --bench dynamodb -- "${CRITERION_ARGS[@]}" >&2

echo
echo "$(nproc) × $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
	"$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);" \
	"$(rustc --version | cut -d' ' -f1-2); Node $(node --version); @architect/functions $FUNCTIONS_VERSION"
echo
python3 - "$TMP/node.jsonl" <<'EOF'
# One table from both sides. Rust: criterion's median time per iteration; Node: the median
# sample's rate (bench/node.js); both as operations per second.
import glob, json, os, sys
node = {j["name"]: j["ops"] for j in map(json.loads, open(sys.argv[1]))}
rust = {}
for f in glob.glob("target/criterion/**/new/estimates.json", recursive=True):
    name = os.path.relpath(os.path.dirname(os.path.dirname(f)), "target/criterion")
    rust[name] = 1e9 / json.load(open(f))["median"]["point_estimate"]
sizes = ["100B", "1KB", "2.8KB"]
rows = [f"roundtrip/sealed/{s}" for s in sizes] + ["handler/v2", "handler/v2-lambda_http"]
rows += ["handler/v2-event-parse"]
rows += ["roundtrip/dynamodb"]
rows += [f"floor/xchacha20poly1305/{s}" for s in sizes]
fmt = lambda x: f"{x:,.0f}" if x else "n/a"
print("| benchmark | Node ops/s | Rust ops/s | Rust ÷ Node |\n|---|---:|---:|---:|")
for r in rows:
    n, o = node.get(r), rust.get(r)
    print(f"| {r} | {fmt(n)} | {fmt(o)} | {f'{o / n:.1f}x' if n and o else 'n/a'} |")
print()
ratio = lambda a, b: a / b if a and b else None
verdict = lambda ok: "n/a" if ok is None else ("met" if ok else "MISSED")
for s in sizes:
    vs_node = ratio(rust.get(f"roundtrip/sealed/{s}"), node.get(f"roundtrip/sealed/{s}"))
    vs_floor = ratio(rust.get(f"floor/xchacha20poly1305/{s}"), rust.get(f"roundtrip/sealed/{s}"))
    print(f"- round trip {s}: {vs_node or 0:.1f}x Node (target 40x: {verdict(vs_node and vs_node >= 40)}),"
          f" {vs_floor or 0:.2f}x the AEAD floor's time (target ≤ 2x: {verdict(vs_floor and vs_floor <= 2)})")
h = ratio(rust.get("handler/v2"), node.get("handler/v2"))
print(f"- handler request: {h or 0:.1f}x arc.http (target 30x: {verdict(h and h >= 30)}; "
      f"issue 14's target 3x: {verdict(h and h >= 3)})")
before = ratio(rust.get("handler/v2-lambda_http"), node.get("handler/v2"))
print(f"- the same request read by lambda_http's own parse: {before or 0:.1f}x arc.http")
# The handler minus the event parse each runtime does anyway: the wrappers' own cost.
us = lambda ops: 1e6 / ops if ops else None
parts = [us(node.get(k)) for k in ("handler/v2", "handler/v2-event-parse")]
parts += [us(rust.get(k)) for k in ("handler/v2-lambda_http", "handler/v2-event-parse")]
if all(parts):
    n, r = parts[0] - parts[1], parts[2] - parts[3]
    print(f"- handler minus the event parse: Node {n:.1f} µs, Rust {r:.1f} µs: {n / r:.1f}x")
EOF

log "cold start, side by side"
echo
uptime
python3 bench/coldstart.py --runs "$RUNS" --node-modules "$TMP/node_modules"

log "concurrency"
echo
uptime
python3 bench/concurrency.py "${CONCURRENCY[@]}"

if ((CALLGRIND)); then
	# Instruction counts do not move with the neighbours' load; the split by function shows
	# where the time goes beyond the AEAD.
	exe="$(cargo bench -p arc-functions --bench sessions --no-run --message-format=json 2>/dev/null |
		sed -n 's/.*"executable":"\([^"]*sessions-[^"]*\)".*/\1/p' | tail -1)"
	for bench in roundtrip/sealed/2.8KB roundtrip/sealed/100B handler/v2; do
		out="$TMP/callgrind.$(echo "$bench" | tr / _)"
		valgrind --tool=callgrind --callgrind-out-file="$out" "$exe" --bench --profile-time 3 \
			"^$bench\$" >/dev/null 2>&1
		echo && echo "callgrind, $bench: hottest functions (exclusive instructions)"
		callgrind_annotate "$out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,14p' |
			sed 's/ \[[^]]*\]$//; s/???://' | cut -c1-150
	done
fi
