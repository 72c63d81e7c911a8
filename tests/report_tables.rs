//! The report's tables (issue #7): Markdown, LaTeX and CSV of every table, with the same
//! numbers as results.json, and `report --format` writing just what was asked.

mod common;

use std::path::Path;

use common::adskew;
use serde_json::Value;

fn run(tmp: &Path) -> std::path::PathBuf {
    common::run_campaign("imana2021_paired_jobs.toml", tmp)
}

type Row = std::collections::HashMap<String, String>;

fn csv_rows(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The tests table's chi-square row of comparison `c`, breakdown `b` (from results.json).
fn chi2_row<'a>(rows: &'a [Row], c: &Value, b: &Value) -> &'a Row {
    rows.iter()
        .find(|t| {
            t["comparison"] == c["key"].as_str().unwrap()
                && t["breakdown"] == b["breakdown"].as_str().unwrap()
        })
        .unwrap()
}

fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("`{s}` is not a number"))
}

#[test]
fn table_numbers_equal_results_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();

    // Shares: every ad × group of every comparison and breakdown, exactly.
    let mut checked = 0;
    for c in r["comparisons"].as_array().unwrap() {
        for b in c["breakdowns"].as_array().unwrap() {
            let file = dir.join(format!(
                "tables/shares-{}-{}.csv",
                c["key"].as_str().unwrap(),
                b["breakdown"].as_str().unwrap()
            ));
            let rows = csv_rows(&file);
            for s in b["shares"].as_array().unwrap() {
                let g = s["group"].as_str().unwrap();
                let row = rows
                    .iter()
                    .find(|row| row["ad"] == s["ad"].as_str().unwrap() && row["group"] == g)
                    .unwrap();
                assert_eq!(num(&row["share"]), s["share"].as_f64().unwrap());
                assert_eq!(num(&row["ci_low"]), s["ci"]["low"].as_f64().unwrap());
                assert_eq!(num(&row["ci_high"]), s["ci"]["high"].as_f64().unwrap());
                assert_eq!(row["count"], s["count"].to_string());
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked}");

    // Tests: each chi-square and z-test with its adjusted p-value.
    let tests = csv_rows(&dir.join("tables/tests.csv"));
    for c in r["comparisons"].as_array().unwrap() {
        for b in c["breakdowns"].as_array().unwrap() {
            let row = chi2_row(&tests, c, b);
            assert_eq!(
                num(&row["statistic"]),
                b["chi2"]["statistic"].as_f64().unwrap()
            );
            assert_eq!(num(&row["p_value"]), b["chi2"]["p_value"].as_f64().unwrap());
            assert_eq!(
                num(&row["adjusted_p_value"]),
                b["adjusted_p_value"].as_f64().unwrap()
            );
            // One effect measure per column (the issue-17 fix of the mixed `effect` column).
            assert_eq!(num(&row["cramers_v"]), b["cramers_v"].as_f64().unwrap());
            assert!(row["difference"].is_empty(), "{row:?}");
            // The exact log10 p beside each p, as results.json has it.
            assert_eq!(
                num(&row["log10_p_value"]),
                b["chi2"]["log10_p_value"].as_f64().unwrap()
            );
            assert_eq!(
                num(&row["log10_p_adjusted"]),
                b["adjusted_log10_p_value"].as_f64().unwrap()
            );
            assert_eq!(row["marks"].is_empty(), !b["reject"].as_bool().unwrap());
            if !b["z_test"].is_null() {
                let z = tests
                    .iter()
                    .find(|t| {
                        t["comparison"] == c["key"].as_str().unwrap() && t["test"].starts_with('z')
                    })
                    .unwrap();
                assert_eq!(
                    num(&z["statistic"]),
                    b["z_test"]["statistic"].as_f64().unwrap()
                );
                assert_eq!(
                    num(&z["difference"]),
                    b["z_test"]["difference"].as_f64().unwrap()
                );
                assert_eq!(
                    num(&z["difference_ci_low"]),
                    b["z_test"]["ci"]["low"].as_f64().unwrap()
                );
                assert_eq!(
                    num(&z["difference_ci_high"]),
                    b["z_test"]["ci"]["high"].as_f64().unwrap()
                );
                assert!(z["cramers_v"].is_empty(), "{z:?}");
            }
        }
    }
    // Ads: delivery and spend.
    let ads = csv_rows(&dir.join("tables/ads.csv"));
    for ad in r["ads"].as_array().unwrap() {
        let row = ads
            .iter()
            .find(|row| row["ad"] == ad["key"].as_str().unwrap())
            .unwrap();
        assert_eq!(row["reach"], ad["reach"].to_string());
        assert_eq!(num(&row["spend"]), ad["spend"].as_f64().unwrap() / 100.0);
    }

    // The rounded forms agree too: Markdown and LaTeX show each share to 0.1 points.
    let b = &r["comparisons"][0]["breakdowns"][0];
    let share = b["shares"][0]["share"].as_f64().unwrap();
    let shown = format!("{:.1}", share * 100.0);
    let stem = format!(
        "shares-{}-{}",
        r["comparisons"][0]["key"].as_str().unwrap(),
        b["breakdown"].as_str().unwrap()
    );
    for ext in ["md", "tex"] {
        let text = std::fs::read_to_string(dir.join(format!("tables/{stem}.{ext}"))).unwrap();
        assert!(text.contains(&shown), "{ext} lacks {shown}:\n{text}");
    }
}

#[test]
fn latex_tables_are_booktabs_with_a_caption_naming_test_and_correction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let tex = std::fs::read_to_string(dir.join("tables/tests.tex")).unwrap();
    for needle in [
        "\\toprule",
        "\\midrule",
        "\\bottomrule",
        "\\caption{",
        "chi-square",
        "z-test",
        "Holm",
        // Prefixed with the experiment, so two experiments' tables go into one paper.
        "\\label{tab:imana2021-paired-jobs-tests}",
        "$^{***}$",
    ] {
        assert!(tex.contains(needle), "no `{needle}` in:\n{tex}");
    }
    // p far in the tail is typeset as a power of ten, never as 0.
    assert!(tex.contains("10^{-"), "{tex}");
    assert!(!tex.contains("& 0 &") && !tex.contains("p = 0"), "{tex}");
    // Columns: one alignment letter per header cell.
    let spec = tex
        .lines()
        .find(|l| l.starts_with("\\begin{tabular}"))
        .unwrap();
    let header = tex
        .lines()
        .skip_while(|l| *l != "\\toprule")
        .nth(1)
        .unwrap();
    let columns = spec
        .trim_start_matches("\\begin{tabular}{")
        .trim_end_matches('}')
        .len();
    assert_eq!(columns, header.split(" & ").count());
}

#[test]
fn report_format_writes_only_what_was_asked() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path());
    let out = tmp.path().join("only");
    adskew()
        .args([
            "report",
            "imana2021-paired-jobs",
            "--format",
            "tex,csv",
            "--db",
        ])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let dir = out.join("imana2021-paired-jobs");
    let mut names: Vec<String> = walk(&dir);
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".tex") || n.ends_with(".csv")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "tables/tests.tex"));
    adskew()
        .args([
            "report",
            "imana2021-paired-jobs",
            "--format",
            "docx",
            "--db",
        ])
        .arg(tmp.path().join("a.db"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown format `docx`"));
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let sub = p.file_name().unwrap().to_string_lossy().to_string();
            out.extend(walk(&p).into_iter().map(|n| format!("{sub}/{n}")));
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    out
}

#[test]
fn report_md_shows_every_chart_with_its_caption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let linked: Vec<&str> = md
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(".svg)").map(|(stem, _)| stem))
        .collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix(".svg").map(str::to_string)
        })
        .collect();
    files.sort();
    let mut linked_sorted: Vec<String> = linked.iter().map(|s| s.to_string()).collect();
    linked_sorted.sort();
    assert_eq!(
        linked_sorted, files,
        "report.md links every chart written, once"
    );
    // Each figure is followed by "**Figure N. Title.**" and its caption (paper-style
    // figures have no title inside them).
    let lines: Vec<&str> = md.lines().collect();
    for (n, (i, line)) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("!["))
        .enumerate()
    {
        let caption = lines[i + 2];
        let title = &line[2..line.find("](").unwrap()];
        assert!(
            caption.starts_with(&format!("**Figure {}. {title}.** ", n + 1))
                && caption.ends_with('.')
                && caption.len() > 40,
            "no caption after {line}: {caption}"
        );
    }
}

#[test]
fn the_robustness_table_holds_the_tests_on_impressions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path());
    let out = common::adskew()
        .args([
            "analyze",
            "imana2021-paired-jobs",
            "--metric",
            "impressions",
            "--json",
            "--db",
        ])
        .arg(tmp.path().join("a.db"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = csv_rows(&dir.join("tables/tests-impressions.csv"));
    let mut checked = 0;
    for c in r["comparisons"].as_array().unwrap() {
        for b in c["breakdowns"].as_array().unwrap() {
            let row = chi2_row(&rows, c, b);
            assert_eq!(
                num(&row["statistic"]),
                b["chi2"]["statistic"].as_f64().unwrap()
            );
            assert_eq!(
                num(&row["adjusted_p_value"]),
                b["adjusted_p_value"].as_f64().unwrap()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
    let tex = std::fs::read_to_string(dir.join("tables/tests-impressions.tex")).unwrap();
    assert!(
        tex.contains("Robustness") && tex.contains("impressions"),
        "{tex}"
    );
}
