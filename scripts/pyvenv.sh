#!/usr/bin/env bash
# Creates (once) a pinned Python environment under target/ and prints its python:
#
#   scripts/pyvenv.sh NAME REQUIREMENTS     # target/NAME, from the pinned REQUIREMENTS
#
# Made again when the requirements file changes (its hash is kept in the venv). Used by
# scripts/bench/venv.sh and scripts/fixtures/venv.sh; the test suite needs neither.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="target/$1"
req="$2"
stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$stamp" > "$venv/.stamp"
fi
echo "$PWD/$venv/bin/python"
