#!/usr/bin/env python3
"""Reference values for the budget chart's line fit (crates/report/src/charts/budget.rs).

Writes tests/fixtures/budget_fit.json: for a few point sets, numpy's least-squares line
(np.polyfit(x, y, 1)) and Pearson's r (np.corrcoef). Needs only numpy.

    python3 scripts/gen_chart_fixtures.py
"""
import json
import pathlib

import numpy as np

CASES = [
    # The shape of Ali et al. 2019 fig. 2: women's share rising with the daily budget.
    ([1, 2, 5, 10, 20, 50], [0.431, 0.447, 0.462, 0.489, 0.503, 0.541]),
    # Noisy, negative, unevenly spaced.
    ([3.5, 7.25, 12, 40, 41, 99.99], [0.62, 0.55, 0.58, 0.41, 0.47, 0.30]),
    # Large budgets, tiny spread (the raw-sums formula loses digits here).
    ([100000, 100001, 100002, 100003], [0.5001, 0.5003, 0.5002, 0.5006]),
]

out = []
for x, y in CASES:
    xs, ys = np.array(x, dtype=float), np.array(y, dtype=float)
    slope, intercept = np.polyfit(xs, ys, 1)
    r = np.corrcoef(xs, ys)[0, 1]
    out.append({"x": list(map(float, x)), "y": list(map(float, y)),
                "slope": float(slope), "intercept": float(intercept), "r": float(r)})

path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "budget_fit.json"
path.write_text(json.dumps(out, indent=2) + "\n")
print(f"wrote {path}")
