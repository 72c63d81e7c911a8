#!/usr/bin/env bash
# `adskew run` of a 150-ad, 30-day experiment with the gender, age and region breakdowns
# (1,025,700 delivery rows: every day re-collected each night), release build:
#
#   scripts/bench/big_run.sh                       # this build
#   ADSKEW=/path/to/older/adskew scripts/bench/big_run.sh   # another build
#
# Prints wall time, CPU time and peak memory, and the number of delivery rows stored.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${ADSKEW:-}" ]; then
    cargo build --release --quiet
    ADSKEW="${CARGO_TARGET_DIR:-target}/release/adskew"
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
{
    printf 'name = "big-150"\ndescription = "150 ads, 30 days"\nplatform = "sim"\ncurrency = "USD"\n'
    printf 'spend_cap = 100000.0\nobjective = "traffic"\n\n[schedule]\nstart = "2026-02-02T00:00:00Z"\n'
    printf 'duration_days = 30\ncollect_every_hours = 24\n\n[audience]\ncountries = ["US"]\n'
    printf 'regions = ["Charlotte", "Raleigh-Durham", "Greensboro", "Greenville-New Bern"]\n'
    printf 'age_min = 18\nage_max = 65\n\n'
    for i in $(seq -f '%03g' 0 149); do
        printf '[[ads]]\nkey = "ad%s"\nheadline = "Jobs"\nbody = "Apply."\n' "$i"
        printf 'link = "https://jobs.example.org/%s"\ndaily_budget = 20.0\n\n' "$i"
    done
    printf '[[comparisons]]\nkey = "first-two"\nads = ["ad000", "ad001"]\n\n'
    printf '[collect]\nbreakdowns = ["gender", "age", "region"]\n\n'
    printf '[sim]\nseed = 5\naudience_size = 1_800_000\ncpm = 5.0\n\n'
    printf '[sim.ads.ad001]\ngender = { female = 1.2, male = 0.9 }\n'
} >"$tmp/big.toml"
/usr/bin/time -f 'run: %e s wall, %U s user + %S s system CPU, %M KB peak' \
    "$ADSKEW" run --quiet "$tmp/big.toml" --db "$tmp/big.db" --out "$tmp/out" >/dev/null
if command -v sqlite3 >/dev/null; then
    echo "delivery rows: $(sqlite3 "$tmp/big.db" 'SELECT COUNT(*) FROM delivery')"
fi
