#!/usr/bin/env python3
"""Generate reference values for adskew's statistics from scipy and statsmodels.

The output, tests/fixtures/statistics.json, is committed: the Rust tests read it, so they
need no Python. Re-run after adding cases:

    pip install scipy statsmodels mpmath
    python3 scripts/gen_stat_fixtures.py

Versions used are recorded in the file.
"""
import json
import math
from fractions import Fraction
import pathlib

import mpmath
import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportion_effectsize, proportions_ztest

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "statistics.json"

TABLES = [
    [[10, 20], [20, 10]],
    [[3, 7], [9, 2]],
    [[120, 80], [90, 110]],
    [[4864, 386], [258, 6456]],  # AlgorithmWatch DE truck driver vs child care (reach)
    [[30, 50, 20], [25, 45, 40]],
    [[100, 200, 150, 50], [120, 180, 160, 40], [90, 210, 140, 60]],
    [[5, 0, 7], [2, 9, 1], [6, 6, 6], [1, 2, 30]],
    [[1000, 1010], [980, 1025]],
    [[50000, 48000], [47000, 51000]],
    [[900, 100], [100, 900]],  # strong skew: p underflows in double precision
]

PROPORTIONS = [(0, 10), (1, 10), (5, 10), (10, 10), (37, 120), (4864, 5250), (1, 1000), (999, 1000), (523, 1000)]
LEVELS = [0.90, 0.95, 0.99]
CI_METHODS = {"wilson": "wilson", "agresti-coull": "agresti_coull", "clopper-pearson": "beta", "wald": "normal"}

ZTESTS = [
    (60, 100, 40, 100),
    (626, 1000, 401, 1000),
    (530, 1000, 447, 1000),
    (12, 40, 20, 45),
    (4000, 9000, 4100, 9100),
    # Far in the tail (z ≈ 65): p underflows, log10 p must not.
    (45810, 77518, 33102, 77828),
]

PVALUES = [
    [0.01, 0.04, 0.03, 0.2],
    [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216],
    [0.5, 0.5, 0.01],
    [1e-10, 0.9, 0.049, 0.051],
]
CORRECTIONS = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def chi_square_cases():
    out = []
    for table in TABLES:
        arr = np.array(table)
        for yates in ([False, True] if arr.shape == (2, 2) else [False]):
            chi2, p, dof, _ = stats.chi2_contingency(arr, correction=yates)
            # scipy's logsf is -inf once sf underflows; mpmath evaluates the regularised
            # upper incomplete gamma at 50 digits, so the reference stays finite.
            mpmath.mp.dps = 50
            logsf = float(mpmath.log10(mpmath.gammainc(dof / 2, chi2 / 2, mpmath.inf, regularized=True)))
            n = arr.sum()
            k = min(arr.shape) - 1
            out.append({
                "table": table, "yates": yates, "statistic": chi2, "dof": int(dof),
                "p_value": p, "log10_p": logsf, "cramers_v": math.sqrt(chi2 / (n * k)),
            })
    return out


def g_test_cases():
    out = []
    mpmath.mp.dps = 50
    for table in TABLES:
        arr = np.array(table)
        g, p, dof, _ = stats.chi2_contingency(arr, correction=False, lambda_="log-likelihood")
        logsf = float(mpmath.log10(mpmath.gammainc(dof / 2, g / 2, mpmath.inf, regularized=True)))
        out.append({"table": table, "statistic": g, "dof": int(dof), "p_value": p, "log10_p": logsf})
    return out


FISHER_TABLES = [
    [[3, 7], [9, 2]],
    [[1, 9], [11, 3]],
    [[0, 5], [5, 0]],
    [[8, 2], [1, 5]],
    [[10, 20], [20, 10]],
    [[2, 0], [0, 0]],
    [[5, 5], [5, 5]],
    [[12, 3], [4, 15]],
    [[120, 80], [90, 110]],
    [[0, 0], [3, 4]],
    # Far in the tail: scipy's p underflows to 0; the log10 reference comes from mpmath.
    [[3000, 1000], [1000, 3000]],
]


def fisher_log10_p(table):
    """log10 of the two-sided Fisher p-value, summed exactly in mpmath (scipy's rule:
    tables no more likely than the observed one, relative tolerance 1e-7)."""
    mpmath.mp.dps = 60
    (a, b), (c, d) = table
    row1, col1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)

    def pmf(x):
        return mpmath.binomial(row1, x) * mpmath.binomial(n - row1, col1 - x) / mpmath.binomial(n, col1)

    observed = pmf(a) * (1 + mpmath.mpf("1e-7"))
    total = mpmath.fsum(p for p in (pmf(x) for x in range(lo, hi + 1)) if p <= observed)
    return float(mpmath.log10(min(total, mpmath.mpf(1))))


# Tables of 10^8 to 10^12 per cell (issue 15): too large to sum the whole support, and
# beyond scipy at 10^12 (its odds ratio and mode overflow int64). Their reference is
# mpmath alone, at 60 digits: the tables no more likely than the observed one found by
# bisection on the exact probabilities, each tail summed outward with the exact ratio of
# neighbouring probabilities until a term is below 1e-40 of the sum.
FISHER_LARGE_TABLES = [
    [[10**8 + 20000, 10**8], [10**8, 10**8 + 20000]],
    [[10**10 + 10**5, 10**10], [10**10, 10**10 + 10**5]],
    [[10**12, 10**12 - 10**8], [10**12 - 10**8, 10**12]],
    [[10**12, 10**12], [10**12, 10**12]],
]


def fisher_large_log10_p(table):
    """log10 of the two-sided Fisher p-value of a large table (see FISHER_LARGE_TABLES)."""
    mpmath.mp.dps = 60
    (a, b), (c, d) = table
    marked, unmarked, draws = a + b, c + d, a + c
    n = marked + unmarked
    lo, hi = max(0, draws - unmarked), min(marked, draws)

    def pmf(x):
        return mpmath.binomial(marked, x) * mpmath.binomial(unmarked, draws - x) / mpmath.binomial(n, draws)

    def up(x):  # P(x + 1) / P(x)
        return mpmath.mpf((marked - x) * (draws - x)) / ((x + 1) * (unmarked - draws + x + 1))

    threshold = pmf(a) * (1 + mpmath.mpf("1e-7"))
    mode = (marked + 1) * (draws + 1) // (n + 2)
    if pmf(mode) <= threshold:
        return 0.0

    def bisect(inside, outside):  # inside: pmf > threshold; outside: pmf <= threshold
        while abs(inside - outside) > 1:
            mid = (inside + outside) // 2
            if pmf(mid) <= threshold:
                outside = mid
            else:
                inside = mid
        return outside

    def tail(start, step):
        term = total = pmf(start)
        x = start
        while lo <= x + step <= hi:
            term = term * (up(x) if step > 0 else 1 / up(x - 1))
            x += step
            total += term
            if term < total * mpmath.mpf("1e-40"):
                break
        return total

    p = mpmath.mpf(0)
    if pmf(lo) <= threshold:
        p += tail(bisect(mode, lo), -1)
    if pmf(hi) <= threshold:
        p += tail(bisect(mode, hi), +1)
    return float(mpmath.log10(min(p, mpmath.mpf(1))))


def fisher_one_sided_log10_p(table, alternative):
    """log10 of the one-sided Fisher p-value, P(X >= a) ("greater") or P(X <= a) ("less"),
    summed exactly in mpmath."""
    mpmath.mp.dps = 60
    (a, b), (c, d) = table
    row1, col1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, col1 - (n - row1)), min(row1, col1)

    def pmf(x):
        return mpmath.binomial(row1, x) * mpmath.binomial(n - row1, col1 - x) / mpmath.binomial(n, col1)

    xs = range(a, hi + 1) if alternative == "greater" else range(lo, a + 1)
    return float(mpmath.log10(min(mpmath.fsum(pmf(x) for x in xs), mpmath.mpf(1))))


def fisher_one_sided_cases():
    """scipy's fisher_exact with alternative="greater" and "less" (issue 18): the odds ratio
    above 1 (row 1's share of column 1 the larger) or below."""
    out = []
    for table in FISHER_TABLES:
        for alternative in ["greater", "less"]:
            res = stats.fisher_exact(table, alternative=alternative)
            out.append({
                "table": table, "alternative": alternative, "p_value": float(res.pvalue),
                "log10_p": fisher_one_sided_log10_p(table, alternative),
            })
    return out


def g_test_yates_cases():
    """The G-test with scipy's Yates option, chi2_contingency(lambda_="log-likelihood",
    correction=True): applied to 2 x 2 tables (dof 1), a no-op on larger ones."""
    out = []
    mpmath.mp.dps = 50
    for table in TABLES:
        arr = np.array(table)
        g, p, dof, _ = stats.chi2_contingency(arr, correction=True, lambda_="log-likelihood")
        logsf = float(mpmath.log10(mpmath.gammainc(dof / 2, g / 2, mpmath.inf, regularized=True)))
        out.append({"table": table, "statistic": float(g), "dof": int(dof), "p_value": float(p),
                    "log10_p": logsf})
    return out


def expected_frequency_cases():
    """scipy's chi2_contingency(table).expected_freq, the counts under independence."""
    return [{"table": table, "expected": stats.chi2_contingency(np.array(table))[3].tolist()}
            for table in TABLES]


def fisher_large_cases():
    out = []
    for table in FISHER_LARGE_TABLES:
        (a, b), (c, d) = table
        log10_p = fisher_large_log10_p(table)
        out.append({
            "table": table,
            "odds_ratio": float(Fraction(a * d, b * c)),
            "p_value": float(mpmath.power(10, log10_p)),
            "log10_p": log10_p,
            "reference": "mpmath",
        })
    return out


def fisher_cases():
    out = []
    for table in FISHER_TABLES:
        res = stats.fisher_exact(table, alternative="two-sided")
        odds = float(res.statistic)
        out.append({
            "table": table,
            "odds_ratio": "inf" if math.isinf(odds) else ("nan" if math.isnan(odds) else odds),
            "p_value": float(res.pvalue),
            "log10_p": fisher_log10_p(table),
        })
    return out + fisher_large_cases()


GOF_CASES = [
    ([600, 400], [0.5, 0.5]),
    ([480, 510, 10], [0.495, 0.495, 0.01]),
    ([120, 300, 260, 180, 90, 50], [0.12, 0.22, 0.2, 0.18, 0.16, 0.12]),
    ([5000, 4000], [0.5, 0.5]),
    ([30, 30, 40], [1, 1, 2]),
]


def goodness_of_fit_cases():
    out = []
    mpmath.mp.dps = 50
    for observed, shares in GOF_CASES:
        obs = np.array(observed, dtype=float)
        sh = np.array(shares, dtype=float) / sum(shares)
        stat, p = stats.chisquare(obs, f_exp=sh * obs.sum())
        dof = len(observed) - 1
        logsf = float(mpmath.log10(mpmath.gammainc(dof / 2, stat / 2, mpmath.inf, regularized=True)))
        tvd = 0.5 * float(np.abs(obs / obs.sum() - sh).sum())
        out.append({
            "observed": observed, "shares": shares, "statistic": float(stat), "dof": dof,
            "p_value": float(p), "log10_p": logsf, "total_variation": tvd,
        })
    return out


def ci_cases():
    out = []
    for x, n in PROPORTIONS:
        for level in LEVELS:
            for ours, theirs in CI_METHODS.items():
                lo, hi = proportion_confint(x, n, alpha=1 - level, method=theirs)
                out.append({"x": x, "n": n, "level": level, "method": ours, "low": float(lo), "high": float(hi)})
    return out


def ztest_cases():
    out = []
    for x1, n1, x2, n2 in ZTESTS:
        for alt_ours, alt_theirs in [("two-sided", "two-sided"), ("larger", "larger"), ("smaller", "smaller")]:
            z, p = proportions_ztest([x1, x2], [n1, n2], alternative=alt_theirs)
            # The tail in mpmath from the same z, so that it stays finite.
            mpmath.mp.dps = 50
            zm = mpmath.mpf(float(z))
            tail = {"two-sided": 2 * mpmath.ncdf(-abs(zm)), "larger": mpmath.ncdf(-zm),
                    "smaller": mpmath.ncdf(zm)}[alt_ours]
            # The unpooled (Wald) CI of the difference, as statsmodels makes it.
            low, high = confint_proportions_2indep(x1, n1, x2, n2, method="wald", compare="diff")
            out.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "alternative": alt_ours, "z": float(z),
                        "p_value": float(p), "log10_p": float(mpmath.log10(tail)),
                        "difference": x1 / n1 - x2 / n2, "ci_low": float(low), "ci_high": float(high)})
    return out


def correction_cases():
    out = []
    for p in PVALUES:
        for ours, theirs in CORRECTIONS.items():
            reject, adjusted, _, _ = multipletests(p, alpha=0.05, method=theirs)
            out.append({"p": p, "method": ours, "adjusted": [float(a) for a in adjusted],
                        "reject_at_0.05": [bool(r) for r in reject]})
    return out


POWER = [  # (p1, p2, alpha, power, ratio, alternative, n for the power question)
    (0.5, 0.55, 0.05, 0.8, 1.0, "two-sided", 1000),
    (0.4, 0.6, 0.05, 0.9, 1.0, "two-sided", 200),
    (0.6, 0.5, 0.01, 0.8, 2.0, "larger", 500),
    (0.45, 0.5, 0.05, 0.8, 0.5, "smaller", 3000),
    (0.3, 0.32, 0.05, 0.8, 1.0, "two-sided", 10000),
    (0.9, 0.85, 0.001, 0.95, 1.0, "larger", 800),
]


def power_cases():
    out = []
    analysis = NormalIndPower()
    for p1, p2, alpha, power, ratio, alt, n in POWER:
        h = float(proportion_effectsize(p1, p2))
        n1 = analysis.solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio, alternative=alt)
        at_n = analysis.power(effect_size=h, nobs1=n, alpha=alpha, ratio=ratio, alternative=alt)
        out.append({"p1": p1, "p2": p2, "alpha": alpha, "power": power, "ratio": ratio, "alternative": alt,
                    "h": h, "nobs1": float(n1), "n": n, "power_at_n": float(at_n)})
    return out


def main():
    doc = {
        "generated_by": "scripts/gen_stat_fixtures.py",
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
        "mpmath": mpmath.__version__,
        "chi_square": chi_square_cases(),
        "g_test": g_test_cases(),
        "fisher": fisher_cases(),
        "fisher_one_sided": fisher_one_sided_cases(),
        "g_test_yates": g_test_yates_cases(),
        "expected_frequencies": expected_frequency_cases(),
        "goodness_of_fit": goodness_of_fit_cases(),
        "proportion_ci": ci_cases(),
        "two_proportion_z": ztest_cases(),
        "corrections": correction_cases(),
        "power": power_cases(),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
