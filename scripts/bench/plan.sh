#!/usr/bin/env bash
# `adskew plan` against a numpy-vectorised replica of the same simulator model
# (scripts/bench/plan_numpy.py), side by side in one session, with a release build:
#
#   scripts/bench/plan.sh [REPLICATES] [RUNS]          # default 1000 replicates, 3 runs
#   BASELINE=/path/to/older/adskew scripts/bench/plan.sh  # also time another build
#
# plan runs its replicates on one thread per core it may use (std::thread::available_parallelism,
# which follows the CPU affinity), so `taskset -c 0` is plan on one thread and
# `taskset -c 0,1` on two. numpy runs on one core (its loops are not multi-threaded).
# Prints the median wall time of each, the ratios, and checks that both computed the same
# power and skew within Monte Carlo error (exit 1 if not).
set -euo pipefail
cd "$(dirname "$0")/../.."
replicates="${1:-1000}"
runs="${2:-3}"
experiment=campaigns/pilot_two_ads.toml
cargo build --release --quiet
adskew="${CARGO_TARGET_DIR:-target}/release/adskew"
python="$(scripts/bench/venv.sh)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cores="$(nproc)"

# median_ms NAME COMMAND...: runs COMMAND $runs times (stdout to $tmp/NAME.json), prints
# the median wall time in ms, and writes the median CPU time (user + system, ms) to
# $tmp/NAME.cpu: on a machine shared with other work, wall time includes waiting for a core.
median_ms() {
    local name="$1"
    shift
    local times=() cpus=()
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s%N)
        /usr/bin/time -f '%U %S' -o "$tmp/time" "$@" >"$tmp/$name.json"
        end=$(date +%s%N)
        times+=($(((end - start) / 1000000)))
        cpus+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tmp/time")")
    done
    printf '%s\n' "${cpus[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' >"$tmp/$name.cpu"
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

plan_all=$(median_ms plan "$adskew" plan "$experiment" --replicates "$replicates" --json)
plan_1=$(median_ms plan1 taskset -c 0 "$adskew" plan "$experiment" --replicates "$replicates" --json)
plan_2=$(median_ms plan2 taskset -c 0,1 "$adskew" plan "$experiment" --replicates "$replicates" --json)
numpy=$(median_ms numpy "$python" scripts/bench/plan_numpy.py "$experiment" --replicates "$replicates" --json)
baseline=""
if [ -n "${BASELINE:-}" ]; then
    baseline=$(median_ms baseline "$BASELINE" plan "$experiment" --replicates "$replicates" --json)
fi

echo "plan $experiment, $replicates replicates, median of $runs runs, $cores cores ($(date -u +%FT%TZ))"
row() { printf '  %-34s %8s ms wall %8s ms CPU\n' "$1" "$2" "$(cat "$tmp/$3.cpu")"; }
row "adskew plan (all $cores cores)" "$plan_all" plan
row "adskew plan, 1 thread (taskset)" "$plan_1" plan1
row "adskew plan, 2 threads (taskset)" "$plan_2" plan2
row "numpy replica (1 core)" "$numpy" numpy
if [ -n "$baseline" ]; then row "baseline $BASELINE" "$baseline" baseline; fi
"$python" - "$tmp" "$plan_all" "$plan_1" "$plan_2" "$numpy" "$baseline" <<'EOF'
import json, math, sys
tmp, plan_all, plan_1, plan_2, numpy, baseline = sys.argv[1:]
rust = json.load(open(f"{tmp}/plan.json"))
py = json.load(open(f"{tmp}/numpy.json"))
c = rust["comparisons"][0]
n = rust["replicates"]
cpu = lambda name: int(open(f"{tmp}/{name}.cpu").read())
print(f"  numpy / adskew: {int(numpy) / int(plan_all):.1f}x wall (1 thread: {int(numpy) / int(plan_1):.1f}x), "
      f"{cpu('numpy') / cpu('plan'):.1f}x CPU; 1 -> 2 threads: {int(plan_1) / int(plan_2):.2f}x wall")
if baseline:
    print(f"  baseline / adskew: {int(baseline) / int(plan_all):.1f}x wall, {cpu('baseline') / cpu('plan'):.1f}x CPU")
print(f"  power: adskew {c['power']:.3f} +- {c['power_se']:.3f}, numpy {py['power']:.3f} +- {py['power_se']:.3f}")
print(f"  skew (share of women a - b): adskew {c['estimate']['mean']:+.5f} (sd {c['estimate']['sd']:.5f}), "
      f"numpy {py['estimate_mean']:+.5f} (sd {py['estimate_sd']:.5f})")
print(f"  spend per run: adskew {rust['spend']['mean']:.2f}, numpy {py['spend_mean']:.2f}")
se = math.hypot(c["power_se"], py["power_se"])
est_se = math.hypot(c["estimate"]["sd"], py["estimate_sd"]) / math.sqrt(n)
same = abs(c["power"] - py["power"]) <= 4 * se + 1e-9 and abs(c["estimate"]["mean"] - py["estimate_mean"]) <= 4 * est_se
print("  same answer within Monte Carlo error (4 se):", "yes" if same else "NO")
sys.exit(0 if same else 1)
EOF
