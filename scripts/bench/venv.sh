#!/usr/bin/env bash
# Creates (once) the Python environment the benchmarks' baselines run in: the tools a
# researcher would otherwise use (numpy, pandas, scipy, statsmodels, matplotlib), pinned in
# scripts/bench/requirements.txt, in target/bench-venv. Prints the venv's python.
# Benchmarks only; the test suite needs none of this.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/bench-venv
req=scripts/bench/requirements.txt
stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$stamp" > "$venv/.stamp"
fi
echo "$PWD/$venv/bin/python"
