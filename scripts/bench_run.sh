#!/usr/bin/env bash
# Times `adskew run` of the bundled examples end to end on the simulator (launch, every
# collection, analysis, charts), with a release build. Usage:
#
#   scripts/bench_run.sh [RUNS]      # default 10 runs per example
#
# Prints the mean and min wall time per example. Numbers are recorded in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
cargo build --release --quiet
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for example in campaigns/*.toml; do
    times=()
    for i in $(seq "$runs"); do
        start=$(date +%s%N)
        "${CARGO_TARGET_DIR:-target}/release/adskew" run --quiet "$example" --db "$tmp/bench.db" --out "$tmp/out" >/dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | awk -v name="$example" -v runs="$runs" '
        { sum += $1; if (min == "" || $1 < min) min = $1 }
        END { printf "%-40s runs=%d mean=%.1f ms min=%.1f ms\n", name, runs, sum / NR / 1000, min / 1000 }'
done
