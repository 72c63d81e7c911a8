#!/usr/bin/env python3
"""A numpy-vectorised replica of adskew's delivery simulator, for `plan`'s benchmark.

What a researcher would write instead of `adskew plan campaigns/pilot_two_ads.toml`:
the same model as crates/sim/src/model.rs, vectorised over replicates, ads and cells:

- cells: gender x age bucket (one region), people = round(audience x shares), impression
  opportunities per hour = people x opportunities_per_day / 24, median competing bid
  cpm / 1000 in cents;
- auction: competing bids log-normal (sd `price_spread`) around the cell's price; the ad
  bids lambda x engagement and pays the expected second price; P(win) = Phi(z);
- pacing: lambda solves expected hourly spend = daily budget / 24 by bisection on
  ln lambda (80 steps on [-60, 60]); with the traffic objective it is the same every day;
- draws per hour and cell: wins ~ Binomial(round(opportunities), P(win)), trimmed
  proportionally when the hour's cost passes what is left of the day's budget;
  clicks ~ Binomial(wins, ctr x engagement); impressions split over people never reached /
  reached before but not today / reached today by binomials, distinct people by the
  occupancy expectation k (1 - exp(-hits / k));
- the campaign's spend cap pauses every ad once reached (checked hour by hour);
- analysis: each ad's reach by gender at the end (the re-collection after 28 days sees no
  reporting noise), the share of women among women and men, a pooled two-proportion
  z-test of ad 1 against ad 2, detected when p < alpha.

It reads the experiment's budgets, schedule, audience size, cpm, gender shares and per-ad
gender engagement from the TOML and uses the simulator's defaults for the rest (the
defaults of crates/sim/src/truth/check.rs). Random streams differ from adskew's, so the
answers agree within Monte Carlo error, not digit for digit.

Usage: plan_numpy.py EXPERIMENT.toml [--replicates N] [--seed S] [--json]
"""

import argparse
import json
import sys
import time
import tomllib

import numpy as np
from scipy.special import ndtr
from scipy.stats import norm

AGE_WEIGHTS = {"18-24": 0.13, "25-34": 0.22, "35-44": 0.21, "45-54": 0.17, "55-64": 0.14, "65+": 0.13}
GENDERS = ["female", "male", "unknown"]


def world(exp):
    """Cells (people, opportunities per hour, price) and per-ad engagement per cell."""
    sim = exp.get("sim", {})
    size = sim.get("audience_size", 100_000)
    gender = sim.get("gender", {"female": 0.495, "male": 0.495, "unknown": 0.01})
    total_age = sum(AGE_WEIGHTS.values())
    opp_per_day = sim.get("opportunities_per_day", 0.05)
    cells = [(g, a) for g in sorted(gender) for a in AGE_WEIGHTS]
    people = np.array([round(size * gender[g] * AGE_WEIGHTS[a] / total_age) for g, a in cells], float)
    opportunities = people * opp_per_day / 24.0
    price = sim.get("cpm", 5.0) * 100.0 / 1000.0
    engagement = np.array(
        [[sim.get("ads", {}).get(ad["key"], {}).get("gender", {}).get(g, 1.0) for g, _ in cells] for ad in exp["ads"]]
    )
    return cells, people, opportunities, price, engagement


def pace(opportunities, price, engagement, hourly_budget, sigma):
    """ln lambda per ad: expected hourly spend equals the hourly budget (bisection)."""
    lo = np.full(engagement.shape[0], -60.0)
    hi = np.full(engagement.shape[0], 60.0)
    scale = opportunities * price * np.exp(sigma * sigma / 2.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        z = (mid[:, None] + np.log(engagement) - np.log(price)) / sigma
        spend = (scale * ndtr(z - sigma)).sum(axis=1)
        below = spend < hourly_budget
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def occupancy(k, hits):
    """Expected distinct people hit when `hits` impressions land at random on `k` people."""
    safe_k = np.maximum(k, 1.0)
    expected = np.rint(safe_k * (1.0 - np.exp(-hits / safe_k)))
    out = np.clip(expected, 1.0, np.minimum(k, hits))
    return np.where((k > 0) & (hits > 0), out, 0.0)


def simulate(exp, replicates, seed):
    """Reach by (replicate, ad, cell) at the end, and total spend per replicate (cents)."""
    sim = exp.get("sim", {})
    sigma = sim.get("price_spread", 1.5)
    ctr = sim.get("ctr", 0.01)
    cells, people, opportunities, price, engagement = world(exp)
    budgets = np.array([ad["daily_budget"] * 100.0 for ad in exp["ads"]])
    hours = exp["schedule"]["duration_days"] * 24
    cap = exp["spend_cap"] * 100.0
    ln_lambda = pace(opportunities, price, engagement, budgets / 24.0, sigma)
    z = (ln_lambda[:, None] + np.log(engagement) - np.log(price)) / sigma
    p_win = ndtr(z)
    price_paid = np.where(p_win > 0, price * np.exp(sigma * sigma / 2) * ndtr(z - sigma) / np.maximum(p_win, 1e-300), 0.0)
    p_click = np.minimum(ctr * engagement, 0.5)
    offered = np.rint(opportunities).astype(np.int64)

    rng = np.random.default_rng(seed)
    shape = (replicates, len(budgets), len(cells))
    reached = np.zeros(shape)
    today = np.zeros(shape)
    day_spend = np.zeros(shape[:2])
    total_spend = np.zeros(shape[:2])
    active = np.ones(replicates, bool)
    for hour in range(hours):
        if hour % 24 == 0:
            today[:] = 0.0
            day_spend[:] = 0.0
        imps = rng.binomial(np.broadcast_to(offered, shape), np.broadcast_to(p_win, shape)).astype(float)
        imps *= active[:, None, None]
        remaining = np.maximum(budgets - day_spend, 0.0)
        cost = (imps * price_paid).sum(axis=2)
        over = (cost > remaining) & (cost > 0)
        factor = np.where(over, remaining / np.where(cost > 0, cost, 1.0), 1.0)
        imps = np.where(over[:, :, None], np.floor(imps * factor[:, :, None]), imps)
        rng.binomial(imps.astype(np.int64), np.broadcast_to(p_click, shape))  # clicks: drawn, not analysed
        on_new = rng.binomial(imps.astype(np.int64), (people - reached) / people).astype(float)
        on_seen = imps - on_new
        seen_not_today = np.maximum(reached - today, 0.0)
        p_not_today = np.where(reached > 0, seen_not_today / np.maximum(reached, 1.0), 0.0)
        on_seen_not_today = rng.binomial(on_seen.astype(np.int64), p_not_today).astype(float)
        new_ever = occupancy(people - reached, on_new)
        new_today = new_ever + occupancy(seen_not_today, on_seen_not_today)
        reached += new_ever
        today = np.minimum(today + new_today, people)
        spend = (imps * price_paid).sum(axis=2)
        day_spend += spend
        total_spend += spend
        active &= total_spend.sum(axis=1) < cap
    return cells, reached, np.floor(total_spend.sum(axis=1))


def analyse(exp, cells, reached, alpha):
    """Share of women per ad and the pooled two-proportion z-test of the first two ads."""
    female = reached[:, :, [g == "female" for g, _ in cells]].sum(axis=2)
    male = reached[:, :, [g == "male" for g, _ in cells]].sum(axis=2)
    counted = female + male
    share = female / counted
    x1, n1, x2, n2 = female[:, 0], counted[:, 0], female[:, 1], counted[:, 1]
    pooled = (x1 + x2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    difference = share[:, 0] - share[:, 1]
    p_value = 2 * norm.sf(np.abs(difference / se))
    return counted, share, difference, p_value < alpha


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment")
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with open(args.experiment, "rb") as f:
        exp = tomllib.load(f)
    if len(exp["ads"]) != 2 or exp["collect"]["breakdowns"] != ["gender"]:
        sys.exit(f"{args.experiment}: the replica covers two ads compared by gender (as pilot_two_ads.toml)")
    began = time.perf_counter()
    cells, reached, spend = simulate(exp, args.replicates, args.seed)
    counted, share, difference, detected = analyse(exp, cells, reached, exp["analysis"]["alpha"])
    seconds = time.perf_counter() - began
    power = detected.mean()
    out = {
        "replicates": args.replicates,
        "power": power,
        "power_se": float(np.sqrt(power * (1 - power) / args.replicates)),
        "estimate_mean": float(difference.mean()),
        "estimate_sd": float(difference.std(ddof=1)),
        "mean_counted": counted.mean(axis=0).tolist(),
        "mean_share": share.mean(axis=0).tolist(),
        "spend_mean": float(spend.mean() / 100.0),
        "seconds": seconds,
    }
    if args.json:
        print(json.dumps(out, default=float))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
