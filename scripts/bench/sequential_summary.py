#!/usr/bin/env python3
"""Summarises scripts/bench/sequential.sh's `adskew plan --json` outputs as the README's
Markdown tables and checks issue 18's criteria (exit 1 when one fails). Standard library
only."""
import json
import pathlib
import sys

ALPHA = 0.05


def load(path):
    return json.loads(path.read_text())["stopping"]


def se(p, n):
    return (p * (1 - p) / n) ** 0.5


def main(folder, bound):
    folder = pathlib.Path(folder)
    failed = []
    print("| Neutral design, 30 nightly collections | replicates | anytime-valid rule | fixed z-test, every night | fixed z-test, at the end |")
    print("|---|---:|---:|---:|---:|")
    rows = [("neutral.json", "looks on settled counts only"),
            ("neutral-revised.json", f"looks on the latest counts, revision bound {bound}")]
    for name, label in rows:
        s = load(folder / name)
        n = s["replicates"]
        print(f"| {label} | {n} | {s['type_i']:.1%} ± {se(s['type_i'], n):.1%} "
              f"| {s['fixed_type_i_peeking']:.1%} ± {se(s['fixed_type_i_peeking'], n):.1%} "
              f"| {s['fixed_type_i']:.1%} ± {se(s['fixed_type_i'], n):.1%} |")
        if s["type_i"] > ALPHA:
            failed.append(f"anytime-valid type-I error ({label}) {s['type_i']:.3f} > {ALPHA}")
        if s["fixed_type_i_peeking"] <= ALPHA:
            failed.append("the fixed test peeked nightly kept its level")
    print()
    print(f"| Bundled paired design (reporting noise, 3-day window, revision bound {bound}) | replicates | power, rule | power, fixed | median spend, rule | median spend, fixed | ratio | median days to a conclusion |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted(folder.glob("skewed-*.json")):
        s = load(path)
        n = s["replicates"]
        ratio = s["spend"]["median"] / s["fixed_spend"]["median"]
        days = s["days_to_conclusion"]["median"] if s["days_to_conclusion"] else float("nan")
        name = path.stem.removeprefix("skewed-")
        print(f"| {name} | {n} | {s['power']:.1%} | {s['fixed_power']:.1%} "
              f"| {s['spend']['median']:.2f} | {s['fixed_spend']['median']:.2f} | {ratio:.0%} | {days:.1f} |")
        if ratio > 0.6:
            failed.append(f"{name}: median spend {ratio:.0%} of the fixed horizon's")
        if s["power"] < s["fixed_power"]:
            failed.append(f"{name}: power {s['power']:.3f} below the fixed design's {s['fixed_power']:.3f}")
    if failed:
        print("\nNOT MET:\n- " + "\n- ".join(failed))
        sys.exit(1)
    print("\nAll of issue 18's criteria are met.")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
