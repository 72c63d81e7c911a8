#!/usr/bin/env bash
# One PNG of each figure kind, from the bundled examples run on the simulator, into
# docs/figures/ (the README shows them):
#
#   scripts/figures/readme_examples.sh
#
# The examples are simulated with their fixed seeds and the charts are deterministic, so
# running this again writes the same bytes (`git status` stays clean) unless the charts or
# the simulator changed, in which case the README shows what adskew draws now. The
# reports use the paper style (the default) and give the ads display labels on the
# command line (`report --label`), as a paper would.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
adskew="${CARGO_TARGET_DIR:-target}/debug/adskew"
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
mkdir -p docs/figures
cp "$imana/all-ads-gender-female.png" docs/figures/dot.png
cp "$imana/software-engineer-paired-female.png" docs/figures/paired.png
cp "$imana/composition-gender.png" docs/figures/composition.png
cp "$imana/delivery-driver-over-time-gender-female.png" docs/figures/over-time.png
cp "$tmp/out/budget-sweep/budgets-budget-gender-female.png" docs/figures/budget.png
cp "$imana/cost-gender.png" docs/figures/cost.png
ls -l docs/figures/*.png
