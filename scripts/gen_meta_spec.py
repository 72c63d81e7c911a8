#!/usr/bin/env python3
"""Generates the mock server's table of Meta's Marketing API from Meta's published specs.

Meta publishes the Graph API it generates its business SDKs from as machine-readable specs in
GitHub `facebook/facebook-business-sdk-codegen`, folder `api_specs/specs/`: one JSON file per
node type (`fields`: name and type; `apis`: each call on the node, `#get`/`#update`/`#delete`
on the node itself or an `endpoint` edge, with its params' `type` and `required`), plus
`enum_types.json` (every enum's values) and `version.txt` (the Graph API version they
describe). This script copies the part an ad-delivery audit touches into
`crates/mock/src/spec/graph.json`, which the mock validates every request against
(`crates/mock/src/contract.rs`). The table is data: regenerate it, never edit it by hand.

Usage (the repository as a git directory or a work tree; Python's standard library only):

    python3 scripts/gen_meta_spec.py PATH/TO/facebook-business-sdk-codegen [--rev HEAD]

The output records the repository's commit, its date and the API version, so a reader can
check every entry against its source.
"""

import argparse
import json
import pathlib
import subprocess
import sys

# Nodes whose calls the mock serves or validates: everything an audit (and an SDK user of
# one) creates, reads, updates or lists.
NODES = [
    "AdAccount",
    "Campaign",
    "AdSet",
    "AdCreative",
    "Ad",
    "AdImage",
    "CustomAudience",
    "AdReportRun",
    "AdsInsights",
]

# Value types that appear inside the params above; only their field names and types are
# kept (the mock checks the keys of a JSON object param against them).
OBJECTS = [
    "Targeting",
    "TargetingGeoLocation",
    "TargetingAutomation",
    "AdCreativeObjectStorySpec",
    "AdCreativeLinkData",
    "AdCreativeDegreesOfFreedomSpec",
    "AdCreativeFeaturesSpec",
    "AdPromotedObject",
    "AdsActionStats",
    "CustomAudienceSession",
]

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "mock" / "src" / "spec" / "graph.json"


class Repo:
    """Reads files of one revision, from a bare git directory or a work tree alike."""

    def __init__(self, path, rev):
        self.path = path
        self.rev = rev

    def git(self, *args):
        return subprocess.run(
            ["git", "--git-dir", self.git_dir(), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def git_dir(self):
        p = pathlib.Path(self.path)
        return str(p / ".git") if (p / ".git").exists() else str(p)

    def read(self, name):
        return self.git("show", f"{self.rev}:api_specs/specs/{name}")


def base_type(t):
    """`list<list<X>>` -> `X`."""
    while t.startswith("list<") and t.endswith(">"):
        t = t[5:-1]
    return t


def calls_of(spec):
    """Each call as {method, edge (null for the node itself), returns, params}."""
    out = []
    for api in spec["apis"]:
        name = api.get("endpoint") or api.get("name")
        edge = None if name in ("#get", "#update", "#delete") else name
        out.append(
            {
                "method": api["method"],
                "edge": edge,
                "returns": api.get("return"),
                "params": {
                    p["name"]: {"type": p["type"], "required": bool(p.get("required"))}
                    for p in api["params"]
                },
            }
        )
    out.sort(key=lambda c: (c["edge"] or "", c["method"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", help="facebook-business-sdk-codegen (git dir or work tree)")
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    repo = Repo(args.repo, args.rev)
    commit = repo.git("rev-parse", args.rev).strip()
    date = repo.git("show", "-s", "--format=%cs", args.rev).strip()
    version = repo.read("version.txt").strip()

    enums_all = {e["name"]: e["values"] for e in json.loads(repo.read("enum_types.json"))}
    nodes, objects, used = {}, {}, set()
    for name in NODES:
        spec = json.loads(repo.read(f"{name}.json"))
        fields = {f["name"]: f["type"] for f in spec["fields"]}
        calls = calls_of(spec)
        nodes[name] = {"fields": fields, "calls": calls}
        used.update(base_type(t) for t in fields.values())
        used.update(base_type(p["type"]) for c in calls for p in c["params"].values())
    for name in OBJECTS:
        spec = json.loads(repo.read(f"{name}.json"))
        objects[name] = {f["name"]: f["type"] for f in spec["fields"]}
        used.update(base_type(t) for t in objects[name].values())
    enums = {n: sorted(enums_all[n]) for n in sorted(used) if n in enums_all}

    table = {
        "source": {
            "repository": "facebook/facebook-business-sdk-codegen",
            "path": "api_specs/specs",
            "commit": commit,
            "date": date,
            "api_version": version,
            "generated_by": "scripts/gen_meta_spec.py",
        },
        "nodes": nodes,
        "objects": objects,
        "enums": enums,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    n_calls = sum(len(n["calls"]) for n in nodes.values())
    print(
        f"{out}: {len(nodes)} nodes, {n_calls} calls, {len(objects)} objects, "
        f"{len(enums)} enums, from {commit[:12]} ({date}, {version})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
