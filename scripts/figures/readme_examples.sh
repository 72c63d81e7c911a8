#!/usr/bin/env bash
# One PNG of each figure kind, from the bundled examples run on the simulator, into
# docs/figures/ (the README shows them):
#
#   scripts/figures/readme_examples.sh [OUT]      # default docs/figures
#   ADSKEW=/path/to/adskew scripts/figures/readme_examples.sh OUT   # that binary, no build
#
# tests/figures.rs runs it with the test's binary into a temporary folder and compares the
# PNGs with the committed ones, so the README cannot fall behind the charts.
#
# The examples are simulated with their fixed seeds and the charts are deterministic, so
# running this again writes the same bytes (`git status` stays clean) unless the charts or
# the simulator changed, in which case the README shows what adskew draws now. The
# reports use the paper style (the default) and give the ads display labels on the
# command line (`report --label`), as a paper would.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="$(realpath -m "${1:-docs/figures}")"
if [ -z "${ADSKEW:-}" ]; then
    cargo build --quiet
    ADSKEW="${CARGO_TARGET_DIR:-target}/debug/adskew"
fi
adskew="$ADSKEW"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for example in imana2021_paired_jobs budget_sweep; do
    "$adskew" run --quiet "campaigns/$example.toml" --db "$tmp/a.db" --out "$tmp/run" >/dev/null
done

labels=(
    --label "dominos_driver=Domino's driver"
    --label "instacart_shopper=Instacart shopper"
    --label "nvidia_swe=NVIDIA engineer"
    --label "netflix_swe=Netflix engineer"
    --label "delivery-driver=Delivery driver"
    --label "software-engineer=Software engineer"
)
"$adskew" report imana2021-paired-jobs --db "$tmp/a.db" --out "$tmp/out" --format png "${labels[@]}" >/dev/null
"$adskew" report budget-sweep --db "$tmp/a.db" --out "$tmp/out" --format png >/dev/null

imana="$tmp/out/imana2021-paired-jobs"
mkdir -p "$out"
cp "$imana/all-ads-gender-female.png" "$out/dot.png"
cp "$imana/software-engineer-paired-female.png" "$out/paired.png"
cp "$imana/composition-gender.png" "$out/composition.png"
cp "$imana/delivery-driver-over-time-gender-female.png" "$out/over-time.png"
cp "$tmp/out/budget-sweep/budgets-budget-gender-female.png" "$out/budget.png"
cp "$imana/cost-gender.png" "$out/cost.png"
ls -l "$out"/*.png
