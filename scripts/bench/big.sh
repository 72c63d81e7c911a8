#!/usr/bin/env bash
# adskew against pandas + scipy + statsmodels (+ matplotlib) at a million delivery rows
# (issue 16), side by side in one session. Usage:
#
#   scripts/bench/big.sh [RUNS] [PY_RUNS]    # default: best of 3 adskew runs, 1 Python run
#
# 1. Builds adskew (release) and the pinned Python stack (scripts/bench/venv.sh).
# 2. Creates the 1 M-row database once: `adskew run scripts/bench/million.toml` (150 ads,
#    30 days, gender, age and region: 1,025,700 rows) into target/bench/million.db; it is
#    made again when the experiment file is newer, or with FRESH=1.
# 3. Times `adskew analyze --json` against scripts/bench/big_baseline.py analyze, and
#    `adskew report` against big_baseline.py report (the same analysis, figures as SVG and
#    300-dpi PNG with matplotlib, the tables as CSV, Markdown and LaTeX, report.md). The
#    Python side checks it computed the same tables and statistics as adskew's JSON and
#    fails the benchmark if not.
# Prints the wall time (best of the runs, process start to exit) and peak RSS of each
# side, the ratio, and the load average, since the machine may be shared.
# ADSKEW=path times another adskew binary (e.g. an older build) against the same data.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
py_runs="${2:-1}"
target="${CARGO_TARGET_DIR:-target}"
if [ -z "${ADSKEW:-}" ]; then
    cargo build --release --quiet --bin adskew
    ADSKEW="$target/release/adskew"
fi
py="$(scripts/bench/venv.sh)"
bench="$target/bench"
db="$bench/million.db"
toml=scripts/bench/million.toml
mkdir -p "$bench"
if [ "${FRESH:-0}" = 1 ] || [ ! -f "$db" ] || [ "$toml" -nt "$db" ]; then
    rm -f "$db"
    /usr/bin/time -f "%e %M" -o "$bench/run.time" \
        "$ADSKEW" run --quiet "$toml" --db "$db" --out "$bench/run-out" >/dev/null
    read -r secs kb < "$bench/run.time"
    echo "created $db: adskew run ${secs} s, peak ${kb} KB"
fi
rows=$("$py" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from delivery').fetchone()[0])" "$db")
echo "delivery rows: $rows"

# best RUNS CMD...: runs CMD RUNS times; prints "best_seconds peak_kb" (peak of all runs).
best() {
    local n="$1"; shift
    local best_s="" peak=0
    for _ in $(seq "$n"); do
        /usr/bin/time -f "%e %M" -o "$bench/one.time" "$@" >/dev/null
        read -r s kb < "$bench/one.time"
        if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then best_s="$s"; fi
        if [ "$kb" -gt "$peak" ]; then peak="$kb"; fi
    done
    echo "$best_s $peak"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
json="$bench/analyze.json"
"$ADSKEW" analyze bench-million --db "$db" --json > "$json"
read -r a_s a_kb < <(best "$runs" "$ADSKEW" analyze bench-million --db "$db" --json)
read -r pa_s pa_kb < <(best "$py_runs" "$py" scripts/bench/big_baseline.py analyze "$db" "$json")
rm -rf "$bench/report-adskew" "$bench/report-python"
read -r r_s r_kb < <(best "$runs" "$ADSKEW" report bench-million --db "$db" --out "$bench/report-adskew")
read -r pr_s pr_kb < <(best "$py_runs" "$py" scripts/bench/big_baseline.py report "$db" "$json" "$bench/report-python")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n| what (1 M rows) | adskew | Python | ratio | adskew peak RSS | Python peak RSS |\n'
printf '|---|---|---|---|---|---|\n'
row() {
    awk -v w="$1" -v a="$2" -v p="$3" -v ak="$4" -v pk="$5" 'BEGIN {
        printf "| %s | %.2f s | %.2f s | %.1fx | %.0f MB | %.0f MB |\n", w, a, p, p / a, ak / 1024, pk / 1024 }'
}
row "analyze --json" "$a_s" "$pa_s" "$a_kb" "$pa_kb"
row "report" "$r_s" "$pr_s" "$r_kb" "$pr_kb"
