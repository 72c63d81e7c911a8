#!/usr/bin/env bash
# Early stopping under anytime-valid looks, demonstrated on the simulator (issue 18).
#
#   scripts/bench/sequential.sh [NEUTRAL_REPLICATES] [SKEWED_REPLICATES]   (default 2000, 200)
#
# Every design runs with the simulator's default reporting noise (2% relative noise on a
# fresh day's rows, revised away over 3 days, as platforms revise their estimates) and a
# revision window to match (`[schedule] recollect_after_days = 3`): each look is made on
# the since-launch counts settled by then, so it trails its collection by 3 days.
# 1. Neutral: scripts/bench/sequential_neutral.toml (two identical ads, no skew, 30 nightly
#    collections) simulated by `adskew plan`: how often the stopping rule (the confidence
#    sequence of the difference of women's share leaving out zero) ends a run with "skew
#    found", against the fixed two-proportion z-test checked on the same settled counts at
#    every collection and at the end.
# 2. Skewed: every bundled paired design (campaigns/*.toml, a two-ad comparison with a
#    pre-registered skew) with `[stopping] rule = "difference"` on that comparison: the
#    stopping rule's power and median spend to a conclusion against the fixed-horizon
#    design (whole schedule, test at the end).
# Prints a Markdown table (the README's) and exits 1 if a criterion of issue 18 fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
neutral_n="${1:-2000}"
skewed_n="${2:-200}"
# The declared bound on relative revisions of a count not yet settled ([stopping]
# revision_bound): 5 sd of the simulator's default reporting noise (2%, normal), which a
# count's revision exceeds with probability 5.7e-7.
REVISION_BOUND="${REVISION_BOUND:-0.1}"
cargo build --release --quiet
bin=target/release/adskew
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A copy of campaign $1 with a 3-day revision window and a stopping rule on comparison $2.
variant() {
    local file="$1" comparison="$2" out="$3"
    sed -e '/^report_noise = /d' -e '/^recollect_after_days = /d' \
        -e 's/^\[schedule\]$/[schedule]\nrecollect_after_days = 3/' "$file" > "$out"
    if ! grep -q '^\[stopping\]' "$out"; then
        printf '\n[stopping]\nrule = "difference"\ncomparison = "%s"\nalpha = 0.05\nrevision_bound = %s\n' \
            "$comparison" "$REVISION_BOUND" >> "$out"
    fi
}

plan() { # plan FILE REPLICATES LABEL
    local start end
    start=$(date +%s.%N)
    "$bin" plan "$1" --replicates "$2" --json > "$tmp/$3.json"
    end=$(date +%s.%N)
    echo "$3: $2 replicates in $(echo "$end - $start" | bc) s" >&2
}

plan scripts/bench/sequential_neutral.toml "$neutral_n" neutral
sed -e "s/^\[stopping\]$/[stopping]\nrevision_bound = $REVISION_BOUND/" \
    scripts/bench/sequential_neutral.toml > "$tmp/neutral-revised.toml"
plan "$tmp/neutral-revised.toml" "$neutral_n" neutral-revised

for spec in imana2021_paired_jobs.toml:delivery-driver imana2021_paired_jobs.toml:software-engineer \
    pilot_two_ads.toml:a-vs-b mirrored_race.toml:lumber-vs-taxi \
    ali2019_job_ads.toml:lumber-vs-cashier image_variants.toml:woman-vs-man-image; do
    file="${spec%%:*}"
    comparison="${spec##*:}"
    label="skewed-${file%.toml}-$comparison"
    variant "campaigns/$file" "$comparison" "$tmp/$label.toml"
    plan "$tmp/$label.toml" "$skewed_n" "$label"
done

python3 scripts/bench/sequential_summary.py "$tmp" "$REVISION_BOUND"
