#!/usr/bin/env bash
# Times `adskew run` of the bundled examples end to end on the simulator (launch, every
# collection, analysis, charts), with a release build. Usage:
#
#   scripts/bench_run.sh [RUNS]      # default 10 runs per example
#   ADSKEW=/path/to/older/adskew scripts/bench_run.sh   # time another build instead
#   BASELINE=/path/to/older/adskew scripts/bench_run.sh # time both, runs interleaved
#
# Prints the median, mean and min wall time and the median CPU time (user + system) per
# example, and the load average, since the machine may be shared; with BASELINE, the same
# for the baseline, whose runs alternate with adskew's so both see the same load.
# Numbers are recorded in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
if [ -z "${ADSKEW:-}" ]; then
    cargo build --release --quiet
    ADSKEW="${CARGO_TARGET_DIR:-target}/release/adskew"
fi
tmp="$(mktemp -d)"
TIMEFORMAT='%3R %3U %3S'
trap 'rm -rf "$tmp"' EXIT
bins=("$ADSKEW")
if [ -n "${BASELINE:-}" ]; then bins+=("$BASELINE"); fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for example in campaigns/*.toml; do
    for i in $(seq "$runs"); do
        for b in "${!bins[@]}"; do
            # bash's `time`: wall, user and system seconds to the millisecond.
            { time "${bins[$b]}" run --quiet "$example" --db "$tmp/bench$b.db" \
                --out "$tmp/out$b" >/dev/null 2>&1; } 2>>"$tmp/times.$b"
        done
    done
    for b in "${!bins[@]}"; do
        label="$example"
        if [ "$b" = 1 ]; then label="  baseline"; fi
        cpu=$(awk '{ printf "%.0f\n", ($2 + $3) * 1000 }' "$tmp/times.$b" | sort -n \
            | awk '{ c[NR] = $1 } END { print c[int((NR + 1) / 2)] }')
        sort -n "$tmp/times.$b" | awk -v name="$label" -v runs="$runs" -v cpu="$cpu" '
            { t[NR] = $1 * 1000; sum += $1 * 1000 }
            END {
                printf "%-40s runs=%d median=%.0f ms mean=%.0f ms min=%.0f ms cpu median=%d ms\n", name, runs, t[int((NR + 1) / 2)], sum / NR, t[1], cpu
            }'
        rm -f "$tmp/times.$b"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
