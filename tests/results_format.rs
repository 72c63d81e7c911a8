//! `results.json` is a documented, stable format (docs/results-json.md, issue #6): every
//! field adskew writes is documented there, and every documented field is written.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::adskew;
use serde_json::Value;

/// The fields documented: the first column of the tables in docs/results-json.md.
fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results-json.md"))
        .unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(field, _)| field.to_string()))
        .filter(|f| f.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter(|f| !f.contains(' '))
        .collect()
}

/// Every field path of `v`, arrays as `[]`, and the keys that are data (breakdown and group
/// names) as `{breakdown}` and `{group}`.
fn paths(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let key = if path.ends_with("skew_ratios") || path.ends_with("shares.{breakdown}") {
                    "{group}"
                } else if path.ends_with("partitions[].ads[].shares") || path == "settings.expected"
                {
                    "{breakdown}"
                } else {
                    k.as_str()
                };
                let p = if path.is_empty() {
                    key.to_string()
                } else {
                    format!("{path}.{key}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(items) => {
            for x in items.iter().filter(|x| x.is_object()) {
                paths(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn analyze_json(db: &Path, args: &[&str]) -> Value {
    let out = adskew()
        .arg("analyze")
        .args(args)
        .arg("--json")
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_field_is_documented_and_every_documented_field_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.db");
    let campaigns = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns");
    for file in ["imana2021_paired_jobs.toml", "mirrored_race.toml"] {
        adskew()
            .arg("run")
            .arg(campaigns.join(file))
            .arg("--db")
            .arg(&db)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .assert()
            .success();
    }
    let mut written = BTreeSet::new();
    let imana = analyze_json(&db, &["imana2021-paired-jobs"]);
    assert_eq!(imana["results_format"], 1);
    paths(&imana, "", &mut written);
    paths(
        &analyze_json(&db, &["mirrored-race", "--expected", "female=0.5,male=0.5"]),
        "",
        &mut written,
    );
    // The fields written only on request: a one-sided Fisher test, the Yates G-test.
    paths(
        &analyze_json(
            &db,
            &["imana2021-paired-jobs", "--alternative", "less", "--yates"],
        ),
        "",
        &mut written,
    );

    let documented = documented();
    assert!(documented.len() > 80, "{documented:?}");
    let undocumented: Vec<_> = written.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "written but not in docs/results-json.md: {undocumented:?}"
    );
    let unwritten: Vec<_> = documented.difference(&written).collect();
    assert!(
        unwritten.is_empty(),
        "documented but never written: {unwritten:?}"
    );
}
