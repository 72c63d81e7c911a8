#!/usr/bin/env bash
# Creates (once) the Python environment the benchmarks' baselines run in: the tools a
# researcher would otherwise use (numpy, pandas, scipy, statsmodels, matplotlib), pinned in
# scripts/bench/requirements.txt, in target/bench-venv. Prints the venv's python.
# Benchmarks only; the test suite needs none of this.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec scripts/pyvenv.sh bench-venv scripts/bench/requirements.txt
