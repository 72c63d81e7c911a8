#!/usr/bin/env bash
# Times what a new user waits for on a fresh clone: the README's first command
# (`cargo run -- run campaigns/imana2021_paired_jobs.toml`, which builds adskew first) and then
# the test build (`cargo test --no-run`). The registry is the machine's (downloads are not
# timed); nothing else should compile meanwhile.
#
#   bash scripts/bench_build.sh [REV]      # REV defaults to HEAD
set -euo pipefail
rev="${1:-HEAD}"
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
git clone -q "$repo" "$dir/adskew"
cd "$dir/adskew"
git checkout -q "$rev"
cargo fetch --locked -q
start=$(date +%s.%N)
cargo run --locked -q -- run campaigns/imana2021_paired_jobs.toml --quiet \
    --db "$dir/a.db" --out "$dir/out" > /dev/null
mid=$(date +%s.%N)
cargo test --locked --no-run -q 2> /dev/null
end=$(date +%s.%N)
awk -v rev="$(git rev-parse --short HEAD)" -v cores="$(nproc)" -v s="$start" -v m="$mid" -v e="$end" \
    'BEGIN { printf "%s (%d cores): cargo run -- run ...: %.0f s; then cargo test --no-run: %.0f s\n", rev, cores, m - s, e - m }'
