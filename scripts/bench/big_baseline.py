#!/usr/bin/env python3
"""The Python side of scripts/bench/big.sh (issue 16): what a researcher would write with
pandas + scipy + statsmodels (+ matplotlib) to get what `adskew analyze --json` and
`adskew report` give for a run stored in adskew's SQLite database.

    big_baseline.py analyze DB ADSKEW_JSON            # tables, tests, CIs, Holm
    big_baseline.py report  DB ADSKEW_JSON OUT_DIR    # the same + figures, tables, report.md

ADSKEW_JSON is adskew's `analyze --json` of the same run. It is read for two things only:
the experiment's comparisons and the simulator's eligible composition (inputs a researcher
would have in their own files), and, after the timed work, to check that both sides
computed the same numbers (tables exactly, statistics to 1e-9 relative). A mismatch exits 1.
The rows are read with one plain query of the run's total rows, the cheapest read pandas
can make; which snapshot is the latest is decided in pandas, as adskew decides it.
"""
import json
import math
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import contingency
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

GENDERS = ["female", "male", "unknown"]
AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+", "Unknown"]
UNKNOWN = {"gender": "unknown", "age": "Unknown"}
LN10 = math.log(10.0)


def latest_totals(db, run_id):
    """Each ad's latest snapshot of the total ending on its last day, per breakdown."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    df = pd.read_sql_query(
        "SELECT collection_id, ad_key, date_start, date_stop, breakdown, value, reach,"
        " impressions, clicks, spend_minor FROM delivery"
        " WHERE experiment_id = ? AND period = 'total'",
        con,
        params=(run_id,),
    )
    con.close()
    history = df
    df = df.sort_values("collection_id")
    key = ["ad_key", "breakdown", "date_start", "date_stop", "value"]
    latest = df.drop_duplicates(key, keep="last")
    last_day = latest.groupby(["ad_key", "breakdown"])["date_stop"].transform("max")
    latest = latest[latest["date_stop"] == last_day]
    newest = latest.sort_values("collection_id").drop_duplicates(
        ["ad_key", "breakdown"], keep="last"
    )[["ad_key", "breakdown", "date_start"]]
    latest = latest.merge(newest, on=["ad_key", "breakdown", "date_start"])
    return latest.sort_values(["ad_key", "value"]), history


def group_key(breakdown):
    if breakdown == "gender":
        return lambda g: (GENDERS.index(g) if g in GENDERS else 99, g)
    if breakdown == "age":
        return lambda g: (AGES.index(g) if g in AGES else 99, g)
    return lambda g: (99, g)


def log10_chi2_sf(x, dof):
    return stats.chi2.logsf(x, dof) / LN10


def breakdown_result(rows, ads, breakdown, metric, eligible):
    """One comparison on one breakdown: the table, shares, tests, fits."""
    sub = rows[(rows["breakdown"] == breakdown) & rows["ad_key"].isin(ads)]
    pivot = sub.pivot_table(index="ad_key", columns="value", values=metric, aggfunc="sum")
    pivot = pivot.reindex(index=ads).fillna(0).astype(np.int64)
    excluded_group = UNKNOWN.get(breakdown)
    groups = sorted((g for g in pivot.columns if g != excluded_group), key=group_key(breakdown))
    table = pivot[groups].to_numpy()
    out = {"breakdown": breakdown, "groups": groups, "table": table.tolist()}
    totals = table.sum(axis=1)
    low, high = proportion_confint(table, totals[:, None], alpha=0.05, method="wilson")
    out["shares"] = [table / totals[:, None], low, high]
    chi, p, dof, _ = stats.chi2_contingency(table, correction=False)
    out["chi2"] = {"statistic": chi, "p_value": p, "dof": dof, "log10_p_value": log10_chi2_sf(chi, dof)}
    out["cramers_v"] = contingency.association(table, method="cramer", correction=False)
    g, gp, _, _ = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    out["g_test"] = {"statistic": g, "p_value": gp}
    if table.shape == (2, 2):
        odds, fp = stats.fisher_exact(table)
        out["fisher"] = {"odds_ratio": odds, "p_value": fp}
    fits = []
    if eligible:
        e = np.array(eligible)
        for row in table:
            stat, gp = stats.chisquare(row, f_exp=e * row.sum())
            share = row / row.sum()
            fits.append({"statistic": stat, "p_value": gp, "total_variation": 0.5 * np.abs(share - e).sum(), "skew": share / e})
    out["goodness_of_fit"] = fits
    return out


def z_test(result, ads, expected):
    """The pooled two-proportion z-test of a pair, on the expected group (else women)."""
    group = expected["group"] if expected else "female"
    j = result["groups"].index(group)
    first, second = (1, 0) if expected and expected["ad"] == ads[1] else (0, 1)
    t = np.array(result["table"])
    counts = [t[first, j], t[second, j]]
    nobs = [t[first].sum(), t[second].sum()]
    alternative = "larger" if expected else "two-sided"
    z, p = proportions_ztest(counts, nobs, alternative=alternative)
    log_p = stats.norm.logsf(z) if expected else math.log(2) + stats.norm.logsf(abs(z))
    low, high = confint_proportions_2indep(counts[0], nobs[0], counts[1], nobs[1], method="wald")
    return {"statistic": z, "p_value": p, "log10_p_value": log_p / LN10, "low": low, "high": high}


def analyze(rows, spec, metric):
    """Every comparison on every breakdown, Holm-corrected together."""
    results = []
    for cmp in spec["comparisons"]:
        ads = cmp["ads"]
        per = []
        for b in cmp["breakdowns"]:
            r = breakdown_result(rows, ads, b["breakdown"], metric, b["eligible"])
            per.append(r)
        if len(ads) == 2:
            expected = cmp["expected"]
            group = expected["group"] if expected else "female"
            target = "age" if group in AGES else "gender"
            for r in per:
                if r["breakdown"] == target:
                    r["z_test"] = z_test(r, ads, expected)
        results.append(per)
    p_values = []
    for per in results:
        for r in per:
            p_values.append(r["chi2"]["p_value"])
            if "z_test" in r:
                p_values.append(r["z_test"]["p_value"])
    adjusted = iter(multipletests(p_values, alpha=0.05, method="holm")[1])
    for per in results:
        for r in per:
            r["adjusted_p_value"] = next(adjusted)
            if "z_test" in r:
                r["z_test"]["adjusted_p_value"] = next(adjusted)
    return results


def close(a, b, what, rel=1e-9):
    if isinstance(b, str):
        b = float(b)
    if a == b or (math.isinf(a) and math.isinf(b) and (a > 0) == (b > 0)):
        return
    if not abs(a - b) <= rel * max(abs(a), abs(b)):
        raise SystemExit(f"mismatch in {what}: python {a!r}, adskew {b!r}")


def check(results, spec):
    """Exits 1 unless every table is equal and every statistic within 1e-9 relative."""
    checked = 0
    for per, cmp in zip(results, spec["comparisons"]):
        for r, b in zip(per, cmp["breakdowns"]):
            where = f"{cmp['key']}/{b['breakdown']}"
            if r["groups"] != b["groups"] or r["table"] != b["table"]:
                raise SystemExit(f"mismatch in {where}: table differs")
            for k in ["statistic", "p_value"]:
                close(r["chi2"][k], b["chi2"][k], f"{where} chi2 {k}")
                close(r["g_test"][k], b["g_test"][k], f"{where} G {k}")
            if math.isfinite(r["chi2"]["log10_p_value"]):
                close(r["chi2"]["log10_p_value"], b["chi2"]["log10_p_value"], f"{where} chi2 log10 p", 1e-6)
            close(r["cramers_v"], b["cramers_v"], f"{where} Cramér's V")
            close(r["adjusted_p_value"], b["adjusted_p_value"], f"{where} Holm p")
            if "fisher" in r:
                close(r["fisher"]["odds_ratio"], b["fisher"]["odds_ratio"], f"{where} odds ratio")
                close(r["fisher"]["p_value"], b["fisher"]["p_value"], f"{where} Fisher p", 1e-6)
            share, low, high = r["shares"]
            for s, v, lo, hi in zip(b["shares"], share.ravel(), low.ravel(), high.ravel()):
                close(v, s["share"], f"{where} share")
                close(lo, s["ci"]["low"], f"{where} CI low")
                close(hi, s["ci"]["high"], f"{where} CI high")
            for f, g in zip(r["goodness_of_fit"], b["goodness_of_fit"]):
                close(f["statistic"], g["statistic"], f"{where} fit")
                close(f["p_value"], g["p_value"], f"{where} fit p")
                close(f["total_variation"], g["total_variation"], f"{where} TVD", 1e-6)
            if "z_test" in r:
                z, bz = r["z_test"], b["z_test"]
                close(z["statistic"], bz["statistic"], f"{where} z")
                close(z["p_value"], bz["p_value"], f"{where} z p")
                close(z["log10_p_value"], bz["log10_p_value"], f"{where} z log10 p", 1e-6)
                close(z["low"], bz["ci"]["low"], f"{where} z CI low")
                close(z["high"], bz["ci"]["high"], f"{where} z CI high")
                close(z["adjusted_p_value"], bz["adjusted_p_value"], f"{where} z Holm p")
            checked += 1
    return checked


def save(fig, out, stem):
    fig.savefig(out / f"{stem}.svg")
    fig.savefig(out / f"{stem}.png", dpi=300)
    import matplotlib.pyplot as plt

    plt.close(fig)


def dot_chart(plt, out, stem, ads, share, low, high, eligible):
    """Each ad's share of a group with its CI, sorted, and the eligible share."""
    order = np.argsort(share)
    fig, ax = plt.subplots(figsize=(3.5, 0.25 * len(ads) + 1.2))
    y = np.arange(len(ads))
    ax.errorbar(share[order], y, xerr=[share[order] - low[order], high[order] - share[order]], fmt="o", color="#0072B2", ms=3)
    ax.set_yticks(y, [ads[i] for i in order])
    if eligible is not None:
        ax.axvline(eligible, color="#999999", ls="--", lw=0.8)
    ax.set_xlabel("share of people reached")
    ax.set_title(stem)
    fig.tight_layout()
    save(fig, out, stem)


def figures(results, spec, rows, history, budgets, out):
    """The report's figures, one per chart adskew draws, as SVG and 300-dpi PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for per, cmp in zip(results, spec["comparisons"]):
        ads, key = cmp["ads"], cmp["key"]
        g = next(r for r in per if r["breakdown"] == "gender")
        j = g["groups"].index("female")
        share, low, high = (m[:, j] for m in g["shares"])
        eligible = spec_eligible(cmp, "gender", j)
        dot_chart(plt, out, f"{key}-gender-female", ads, share, low, high, eligible)
        over_time(plt, out, f"{key}-over-time-gender-female", ads, history)
        if "z_test" in g:
            fig, ax = plt.subplots(figsize=(3.5, 2.6))
            ax.plot([0, 1], share, "o-", color="#D55E00")
            ax.vlines([0, 1], low, high, color="#D55E00")
            ax.set_xticks([0, 1], ads)
            ax.set_title(f"z = {g['z_test']['statistic']:.2f}, p = {g['z_test']['p_value']:.3g}")
            fig.tight_layout()
            save(fig, out, f"{key}-paired-female")
        if "budget" in cmp.get("vary", []):
            x = np.array([budgets[a] for a in ads])
            slope, icept = np.polyfit(x, share, 1)
            r = stats.pearsonr(x, share)[0]
            fig, ax = plt.subplots(figsize=(3.5, 2.6))
            ax.scatter(x, share, s=8, color="#009E73")
            ax.plot(x, slope * x + icept, color="#000000", lw=0.8)
            ax.set_title(f"r = {r:.2f}")
            ax.set_xlabel("daily budget")
            fig.tight_layout()
            save(fig, out, f"{key}-budget-gender-female")
    all_ads = sorted(rows["ad_key"].unique())
    gender = breakdown_result(rows, all_ads, "gender", "reach", None)
    share, low, high = (m[:, 0] for m in gender["shares"])
    dot_chart(plt, out, "all-ads-gender-female", all_ads, share, low, high, None)
    for b in ["gender", "age", "region"]:
        t = rows[rows["breakdown"] == b].pivot_table(index="ad_key", columns="value", values="reach", aggfunc="sum")
        t = t.div(t.sum(axis=1), axis=0)
        fig, ax = plt.subplots(figsize=(7, 4))
        t.plot.barh(stacked=True, ax=ax, width=0.8, legend=True)
        ax.set_title(f"composition by {b}")
        fig.tight_layout()
        save(fig, out, f"composition-{b}")
    g = rows[rows["breakdown"] == "gender"].groupby("value")[["spend_minor", "reach"]].sum()
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.6))
    axes[0].bar(g.index, g["spend_minor"] / 100)
    axes[1].bar(g.index, g["spend_minor"] / 100 / g["reach"] * 1000)
    fig.tight_layout()
    save(fig, out, "cost-gender")


def spec_eligible(cmp, breakdown, j):
    b = next(b for b in cmp["breakdowns"] if b["breakdown"] == breakdown)
    return b["eligible"][j] if b["eligible"] else None


def over_time(plt, out, stem, ads, history):
    """Each ad's cumulative share of women at each collection."""
    h = history[(history["breakdown"] == "gender") & history["ad_key"].isin(ads)]
    h = h[h["value"] != "unknown"]
    p = h.pivot_table(index=["collection_id", "ad_key"], columns="value", values="reach", aggfunc="sum")
    share = (p["female"] / p.sum(axis=1)).unstack("ad_key")
    fig, ax = plt.subplots(figsize=(3.5, 2.6))
    share.plot(ax=ax, legend=len(ads) <= 6, lw=0.8)
    ax.set_ylabel("share of women")
    fig.tight_layout()
    save(fig, out, stem)


def write_tables(results, spec, rows, metric_name, out):
    """Shares per comparison and breakdown, and the tests, as CSV, Markdown and LaTeX."""
    tests = []
    for per, cmp in zip(results, spec["comparisons"]):
        for r in per:
            share, low, high = r["shares"]
            t = np.array(r["table"])
            frame = pd.DataFrame(
                [(a, g, share[i, j], low[i, j], high[i, j], t[i, j]) for i, a in enumerate(cmp["ads"]) for j, g in enumerate(r["groups"])],
                columns=["ad", "group", "share", "ci_low", "ci_high", "count"],
            )
            if metric_name == "reach":
                write_frame(frame, out / f"tables/shares-{cmp['key']}-{r['breakdown']}")
            tests.append((cmp["key"], r["breakdown"], r["chi2"]["statistic"], r["chi2"]["dof"], r["chi2"]["p_value"], r["adjusted_p_value"]))
    suffix = "" if metric_name == "reach" else "-impressions"
    write_frame(pd.DataFrame(tests, columns=["comparison", "breakdown", "chi2", "dof", "p", "p_holm"]), out / f"tables/tests{suffix}")


def write_frame(frame, stem):
    """CSV, a Markdown table and a booktabs LaTeX table (the pinned stack has neither
    tabulate nor jinja2, which pandas' own writers need)."""
    frame.to_csv(f"{stem}.csv", index=False)
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    head = list(map(str, frame.columns))
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(row) + " |" for row in cells]
    Path(f"{stem}.md").write_text("\n".join(md) + "\n")
    tex = ["\\begin{tabular}{" + "l" * len(head) + "}", "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
    tex += [" & ".join(row) + " \\\\" for row in cells]
    tex += ["\\bottomrule", "\\end{tabular}"]
    Path(f"{stem}.tex").write_text("\n".join(tex) + "\n")


def report(db, spec, out):
    rows, history = latest_totals(db, spec["experiment"]["id"])
    results = analyze(rows, spec, "reach")
    robustness = analyze(rows, spec, "impressions")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    budgets = dict(con.execute("SELECT ad_key, budget_minor / 100.0 FROM ads WHERE experiment_id = ?", (spec["experiment"]["id"],)).fetchall())
    con.close()
    (out / "tables").mkdir(parents=True, exist_ok=True)
    figures(results, spec, rows, history, budgets, out)
    write_tables(results, spec, rows, "reach", out)
    write_tables(robustness, spec, rows, "impressions", out)
    ads = rows[rows["breakdown"] == "gender"].groupby("ad_key")[["reach", "impressions", "clicks", "spend_minor"]].sum()
    write_frame(ads.reset_index(), out / "tables/ads")
    lines = [f"# {spec['experiment']['name']}", ""]
    for per, cmp in zip(results, spec["comparisons"]):
        for r in per:
            lines.append(f"- {cmp['key']} by {r['breakdown']}: chi-square = {r['chi2']['statistic']:.2f}, df = {r['chi2']['dof']}, Holm p = {r['adjusted_p_value']:.3g}")
    (out / "report.md").write_text("\n".join(lines) + "\n")
    (out / "results.json").write_text(to_json(results))
    return results


def to_json(results):
    """Every comparison's tables, tests, shares and fits as JSON, as adskew prints them."""

    def plain(x):
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, (np.integer,)):
            return int(x)
        if isinstance(x, (np.floating, float)):
            return float(x) if math.isfinite(x) else str(x)
        return x

    return json.dumps(plain(results), indent=2)


def main():
    mode, db, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = json.loads(Path(spec_path).read_text())
    start = time.perf_counter()
    if mode == "analyze":
        rows, _ = latest_totals(db, spec["experiment"]["id"])
        results = analyze(rows, spec, spec["settings"]["metric"])
        print(to_json(results))
    elif mode == "report":
        results = report(db, spec, Path(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {mode!r}: give analyze or report")
    elapsed = time.perf_counter() - start
    checked = check(results, spec)
    print(f"python {mode}: {elapsed:.3f} s of work; {checked} tables checked equal to adskew's", file=sys.stderr)


if __name__ == "__main__":
    main()
