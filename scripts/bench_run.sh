#!/usr/bin/env bash
# Times `adskew run` of the bundled examples end to end on the simulator (launch, every
# collection, analysis, charts), with a release build. Usage:
#
#   scripts/bench_run.sh [RUNS]      # default 10 runs per example
#   ADSKEW=/path/to/older/adskew scripts/bench_run.sh   # time another build instead
#
# Prints the median, mean and min wall time per example. Numbers are recorded in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
if [ -z "${ADSKEW:-}" ]; then
    cargo build --release --quiet
    ADSKEW="${CARGO_TARGET_DIR:-target}/release/adskew"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for example in campaigns/*.toml; do
    times=()
    for i in $(seq "$runs"); do
        start=$(date +%s%N)
        "$ADSKEW" run --quiet "$example" --db "$tmp/bench.db" --out "$tmp/out" >/dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v name="$example" -v runs="$runs" '
        { t[NR] = $1; sum += $1 }
        END { printf "%-40s runs=%d median=%.1f ms mean=%.1f ms min=%.1f ms\n", name, runs, t[int((NR + 1) / 2)] / 1000, sum / NR / 1000, t[1] / 1000 }'
done
