#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints how many inputs each one executed.
#
#   fuzz/run.sh                     # every target, 60 s each
#   FUZZ_SECONDS=600 fuzz/run.sh    # longer
#   fuzz/run.sh cookie_reader       # some targets only
#
# Works on the stable toolchain: the coverage instrumentation cargo-fuzz asks rustc for
# (-Cpasses=sancov-module, -Cllvm-args=...) is stable; only the sanitizers are not, so targets
# are built with `--sanitizer none` unless FUZZ_SANITIZER names one (e.g. address), which then
# needs RUSTC_BOOTSTRAP=1 to pass -Zsanitizer to a stable rustc.
#
# Exits non-zero when a target crashes; the failing input is saved in fuzz/artifacts/<target>/
# and `cargo fuzz run <target> <that file> --sanitizer none --fuzz-dir fuzz` replays it.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
cd "$fuzz_dir/.."

if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1
fi

if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi

build_start=$SECONDS
cargo fuzz build --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer"
echo "build: $((SECONDS - build_start)) s"

# Seeds: the real events for the normalizer and the event reader; the cookie reader writes its
# own sealed cookie (sealed under a secret that exists only in that process) when it starts.
for seeded in request_normalizer event_reader; do
    mkdir -p "$fuzz_dir/corpus/$seeded"
    cp -n crates/arc-functions/tests/fixtures/*.json "$fuzz_dir/corpus/$seeded/"
done

failed=()
summary=()
for target in "${targets[@]}"; do
    corpus="$fuzz_dir/corpus/$target"
    log="$fuzz_dir/artifacts/$target.log"
    mkdir -p "$corpus" "$fuzz_dir/artifacts"
    echo "== $target: $seconds s"
    status=0
    # A target's dictionary (fuzz/<target>.dict: the tokens its input format is made of), if any.
    dict=()
    if [ -f "$fuzz_dir/$target.dict" ]; then
        dict=(-dict="$fuzz_dir/$target.dict")
    fi
    ARC_FUZZ_SEED_DIR="$corpus" cargo fuzz run --fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer" \
        "$target" "$corpus" -- -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" \
        >"$log" 2>&1 || status=$?
    # libFuzzer's final statistics; the last "#N" status line when it stopped without them.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -1)
    fi
    line="$target: ${execs:-?} execs in $seconds s"
    # Panics a target catches in code upstream of this crate (see request_normalizer.rs).
    grep -A1 '^upstream panic' "$log" | grep -v '^--$' || true
    if [ "$status" -ne 0 ]; then
        failed+=("$target")
        line="$line, FAILED (exit $status); see $log"
        grep -E '^(thread .* panicked|Failing input:|Output of .std::fmt::Debug.:)' -A2 "$log" || tail -30 "$log"
    fi
    echo "$line"
    summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashed: ${failed[*]}" >&2
    exit 1
fi
