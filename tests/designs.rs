//! Designs with audience partitions (issue #5): replications on disjoint partitions, and
//! mirrored audiences that encode race by region (Ali et al. 2019, §1.2), each launched as
//! one ad set per ad and partition and combined in the analysis.

mod common;

use std::path::{Path, PathBuf};

use common::adskew;
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(name)
}

/// Runs an experiment file on the simulator; returns results.json.
fn run(file: &Path, dir: &Path) -> Value {
    adskew()
        .args(["run", "--quiet", "--db"])
        .arg(dir.join("a.db"))
        .arg("--out")
        .arg(dir.join("out"))
        .arg(file)
        .env("HOME", "/nonexistent")
        .assert()
        .success();
    // The report's folder (beside it, `.NAME.run` notes the run it holds).
    let name = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    serde_json::from_str(&std::fs::read_to_string(name.join("results.json")).unwrap()).unwrap()
}

fn partition_share(r: &Value, partition: &str, ad: &str, breakdown: &str, value: &str) -> f64 {
    r["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["partition"] == partition)
        .unwrap()["ads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == ad)
        .unwrap()["shares"][breakdown][value]
        .as_f64()
        .unwrap()
}

#[test]
fn a_mirrored_design_reads_race_from_regions_and_cancels_geography() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(&example("mirrored_race.toml"), tmp.path());

    // Each ad ran in both audiences: four ad sets.
    let conn = rusqlite::Connection::open(tmp.path().join("a.db")).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT ad_key FROM ads ORDER BY ad_key")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, ["lumber@A", "lumber@B", "taxi@A", "taxi@B"]);

    // Every ad is seen more in Charlotte, which holds white people in A and Black people in
    // B: each audience alone misreads the neutral ad's race composition, in opposite ways.
    let a = partition_share(&r, "A", "lumber", "race", "black");
    let b = partition_share(&r, "B", "lumber", "race", "black");
    assert!(a < 0.48 && b > 0.52, "A {a:.3}, B {b:.3}");

    // Pooled, the geography cancels: the neutral ad reaches the eligible 50/50, and the ad
    // with the (simulated) racial skew is found, in the pre-registered direction.
    let race = r["comparisons"][0]["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["breakdown"] == "race")
        .expect("race is tested")
        .clone();
    let groups: Vec<&str> = race["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    let black = groups.iter().position(|g| *g == "black").unwrap();
    let share = |ad: usize| {
        let row = race["table"][ad].as_array().unwrap();
        row[black].as_f64().unwrap() / row.iter().map(|x| x.as_f64().unwrap()).sum::<f64>()
    };
    let ads: Vec<&str> = r["comparisons"][0]["ads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let lumber = ads.iter().position(|a| *a == "lumber").unwrap();
    let taxi = ads.iter().position(|a| *a == "taxi").unwrap();
    assert!(
        (share(lumber) - 0.5).abs() < 0.02,
        "neutral ad {:.3}",
        share(lumber)
    );
    assert!(share(taxi) > share(lumber) + 0.03);
    let paired = common::z_test(&r["comparisons"][0]);
    assert_eq!(paired["group"], "black");
    assert_eq!(paired["direction_as_expected"], true);
}

#[test]
fn replications_run_on_disjoint_partitions_and_pool() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("pilot_two_ads.toml")).unwrap()
        + "\n[design]\nkind = \"replicated\"\npartitions = [\"p1\", \"p2\", \"p3\"]\n";
    let file = tmp.path().join("replicated.toml");
    std::fs::write(&file, text).unwrap();
    let r = run(&file, tmp.path());
    let parts = r["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for ad in r["ads"].as_array().unwrap() {
        let key = ad["key"].as_str().unwrap();
        let counts: Vec<u64> = parts
            .iter()
            .map(|p| {
                p["ads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == key)
                    .unwrap()["count"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        // Disjoint partitions: reach adds up, and each replicate is its own draw.
        assert_eq!(
            counts.iter().sum::<u64>(),
            ad["reach"].as_u64().unwrap(),
            "{key}"
        );
        assert!(counts.iter().all(|c| *c > 0));
        assert!(
            counts[0] != counts[1] || counts[1] != counts[2],
            "{counts:?}"
        );
    }
}

#[test]
fn design_mistakes_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(example("mirrored_race.toml")).unwrap();
    let check = |text: String, path: &str, words: &str| {
        let file = tmp.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let out = adskew()
            .arg("validate")
            .arg(&file)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        assert!(err.contains(path) && err.contains(words), "{path}: {err}");
    };
    check(
        base.replace(
            "partitions = [\"A\", \"B\"]",
            "partitions = [\"A\", \"B\", \"C\"]",
        ),
        "design.partitions",
        "exactly two",
    );
    check(
        base.replace(
            "[\"Raleigh-Durham\", \"Greenville-New Bern\"]]",
            "[\"Raleigh-Durham\", \"Charlotte\"]]",
        ),
        "design.region_sets",
        "both sets",
    );
    check(
        base.replace(
            "breakdowns = [\"gender\", \"region\"]",
            "breakdowns = [\"gender\", \"race\"]",
        ),
        "collect.breakdowns",
        "not reported",
    );
    check(
        base.replace("group = { black = 1.5 }", "group = { asian = 1.5 }"),
        "sim.ads.taxi.group.asian",
        "not one of the design's groups",
    );
}
