//! The report's words and tables as a journal prints them (issue 17, requirement 4):
//! methods by their published names for every correction, interval and Yates setting, a
//! p-value floor in print with the exact log10 p kept in results.json and the CSV, LaTeX
//! labels unique across experiments, and sentences whose grammar holds.

mod common;

use std::path::Path;

use adskew::analysis;
use adskew::report::{markdown, tables, Report};
use adskew::store::Store;
use adskew::vocab::{CiMethod, Correction};
use serde_json::Value;

/// The report of the stored run `name` in `dir/a.db`, analysed with `settings` changed.
fn report_with(
    dir: &Path,
    name: &str,
    change: impl Fn(&mut adskew::experiment::AnalysisSettings),
) -> Report {
    let store = Store::open_existing(&dir.join("a.db")).unwrap();
    let record = store.find_experiment(name).unwrap();
    let mut inputs = adskew::report_inputs(&store, &record).unwrap();
    change(&mut inputs.experiment.analysis);
    let analysis = analysis::analyze(&inputs);
    Report::load(&store, inputs, analysis).unwrap()
}

/// report.md's text and every table's LaTeX, of one report.
fn texts(report: &Report) -> (String, String) {
    let md = markdown::render(&report.analysis, &[]);
    let tex: String = tables::tables(report).iter().map(|t| t.latex()).collect();
    (md, tex)
}

/// Wordings the issue found: lower-case method names, "none" as a method, counts whose noun
/// disagrees, raw exponents.
fn assert_no_known_slips(text: &str) {
    for slip in [
        "none correction",
        "none-adjusted",
        "p_adj",
        " holm",
        " bonferroni",
        "bh-adjusted",
        " wilson",
        "agresti-coull",
        "clopper-pearson",
        " wald ",
        "Pearson chi-square",
        "1 tests",
        "1 comparisons",
        "e-9",
        "p < 1e",
    ] {
        assert!(!text.contains(slip), "`{slip}` in:\n{text}");
    }
}

#[test]
fn every_correction_and_interval_is_named_as_published() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("imana2021_paired_jobs.toml", tmp.path());
    let corrections = [
        (
            Correction::None,
            "not adjusted for multiple tests",
            "no correction for multiple tests",
        ),
        (
            Correction::Bonferroni,
            "Bonferroni-adjusted p",
            "with the Bonferroni method",
        ),
        (Correction::Holm, "Holm-adjusted p", "with Holm's method"),
        (
            Correction::BenjaminiHochberg,
            "Benjamini–Hochberg-adjusted p",
            "with the Benjamini--Hochberg method",
        ),
    ];
    let intervals = [
        (CiMethod::Wilson, "Wilson", "Wilson"),
        (CiMethod::AgrestiCoull, "Agresti–Coull", "Agresti--Coull"),
        (
            CiMethod::ClopperPearson,
            "Clopper–Pearson",
            "Clopper--Pearson",
        ),
        (CiMethod::Wald, "Wald", "Wald"),
    ];
    for (correction, prose, caption) in corrections {
        for (ci, name, latex_name) in intervals {
            let report = report_with(tmp.path(), "imana2021-paired-jobs", |s| {
                s.correction = correction;
                s.ci = ci;
                s.ci_level = 0.9;
            });
            let (md, tex) = texts(&report);
            assert!(md.contains(prose), "{correction}: no `{prose}` in:\n{md}");
            assert!(
                tex.contains(caption),
                "{correction}: no `{caption}` in:\n{tex}"
            );
            // The shares' interval: level and method, in the text and in LaTeX.
            assert!(
                md.contains(&format!("90% {name} confidence interval")),
                "{ci}: {md}"
            );
            assert!(
                tex.contains(&format!("90\\% {latex_name} confidence interval")),
                "{ci}: {tex}"
            );
            // The difference's interval says its own level and method (always Wald).
            assert!(md.contains("90% Wald CI +"), "{md}");
            assert!(tex.contains("90\\% Wald CI (pp)"), "{tex}");
            assert_no_known_slips(&md);
            assert_no_known_slips(&tex);
        }
    }
}

#[test]
fn yates_on_and_off_name_the_test_that_ran() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("imana2021_paired_jobs.toml", tmp.path());
    let off = report_with(tmp.path(), "imana2021-paired-jobs", |s| s.yates = false);
    let (md, tex) = texts(&off);
    assert!(md.contains("By gender: the ads reached significantly different gender compositions (Pearson's χ² = "), "{md}");
    assert!(!md.contains("Yates-corrected"), "{md}");
    assert!(
        tex.contains("Pearson's $\\chi^{2}$ &") && tex.contains("without Yates' correction"),
        "{tex}"
    );

    let on = report_with(tmp.path(), "imana2021-paired-jobs", |s| s.yates = true);
    let (md, tex) = texts(&on);
    // Gender is 2 × 2 (two ads, women and men): corrected. Age is 2 × 6: Pearson's.
    assert!(
        md.contains("gender compositions (Yates-corrected χ² = "),
        "{md}"
    );
    assert!(
        md.contains("age composition was found (Pearson's χ² = "),
        "{md}"
    );
    assert!(tex.contains("Yates-corrected $\\chi^{2}$ &"), "{tex}");
    assert!(
        tex.contains("Yates-corrected $\\chi^{2}$ for 2 $\\times$ 2 tables"),
        "{tex}"
    );
    assert_no_known_slips(&md);
    // The CSV keeps a machine-readable name.
    let csv = tables::tables(&on)[1].csv();
    assert!(
        csv.contains(",chi-square-yates,") && csv.contains(",chi-square,"),
        "{csv}"
    );
}

#[test]
fn p_values_stop_at_the_floor_in_print_and_stay_exact_in_json_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::run_campaign("imana2021_paired_jobs.toml", tmp.path());
    let whole = std::fs::read_to_string(dir.join("report.md")).unwrap();
    // The prose and tables (figure captions are the charts' own, outside this test).
    let md = whole.split("## Figures").next().unwrap();
    // Default floor 10⁻¹⁶: the z-test's p (log10 ≈ −928) and the chi-square's 3 × 10⁻⁸⁸ are
    // both printed as the bound.
    assert!(
        md.contains("z = 65.29, p < 10⁻¹⁶, Holm-adjusted p < 10⁻¹⁶"),
        "{md}"
    );
    assert!(!md.contains("10⁻⁸⁸") && !md.contains("10⁻⁹²"), "{md}");
    let tests_md = std::fs::read_to_string(dir.join("tables/tests.md")).unwrap();
    assert!(tests_md.contains("| < 10⁻¹⁶ |"), "{tests_md}");

    // results.json and tests.csv keep p and its log10 exactly, the same numbers.
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["settings"]["p_floor"].as_f64(), Some(1e-16));
    let b = &r["comparisons"][0]["breakdowns"][0];
    let log10 = b["chi2"]["log10_p_value"].as_f64().unwrap();
    assert!(log10 < -900.0, "{log10}");
    let csv = std::fs::read_to_string(dir.join("tables/tests.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let first = rows.records().next().unwrap().unwrap();
    let col = |name: &str| first[headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col("p_value"), "0.0");
    assert_eq!(col("log10_p_value").parse::<f64>().unwrap(), log10);
    assert_eq!(
        col("log10_p_adjusted").parse::<f64>().unwrap(),
        b["adjusted_log10_p_value"].as_f64().unwrap()
    );

    // A lower floor on the command line prints what lies above it, and changes no number.
    let out = tmp.path().join("floor");
    common::adskew()
        .args([
            "report",
            "imana2021-paired-jobs",
            "--p-floor",
            "1e-100",
            "--db",
        ])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let low = std::fs::read_to_string(out.join("imana2021-paired-jobs/report.md")).unwrap();
    assert!(low.contains("p = 3.31 × 10⁻⁸⁸"), "{low}");
    assert!(low.contains("p < 10⁻¹⁰⁰"), "{low}");
    let low_json: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("imana2021-paired-jobs/results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(low_json["comparisons"], r["comparisons"]);

    // A floor that is no power of ten is refused, naming the flag, and writes nothing.
    let bad = tmp.path().join("bad");
    common::adskew()
        .args([
            "report",
            "imana2021-paired-jobs",
            "--p-floor",
            "0.05",
            "--db",
        ])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--p-floor"))
        .stderr(predicates::str::contains("power of ten"));
    assert!(!bad.exists());
}

#[test]
fn latex_labels_are_unique_across_two_experiments() {
    let tmp = tempfile::tempdir().unwrap();
    let first = common::run_campaign("imana2021_paired_jobs.toml", tmp.path());
    let second = common::run_campaign("pilot_two_ads.toml", tmp.path());
    let mut labels = Vec::new();
    for dir in [&first, &second] {
        for entry in std::fs::read_dir(dir.join("tables")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tex") {
                let tex = std::fs::read_to_string(&path).unwrap();
                labels.extend(
                    tex.lines()
                        .filter_map(|l| l.strip_prefix("\\label{"))
                        .map(|l| l.trim_end_matches('}').to_string()),
                );
            }
        }
    }
    assert!(
        labels
            .iter()
            .any(|l| l == "tab:imana2021-paired-jobs-tests"),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("tab:pilot") && l.ends_with("-tests")),
        "{labels:?}"
    );
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), labels.len(), "{labels:?}");
}

#[test]
fn summary_sentences_agree_with_their_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::run_campaign("pilot_two_ads.toml", tmp.path());
    // Captions name the reference line once, not "(simulator) (50.5%)".
    let written = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        written.contains("the dashed line marks the eligible audience (simulator) at "),
        "{written}"
    );
    assert!(!written.contains(") ("), "{written}");
    let name = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml"),
    )
    .unwrap()
    .lines()
    .find_map(|l| l.strip_prefix("name = "))
    .map(|n| n.trim().trim_matches('"').to_string())
    .unwrap();
    let report = report_with(tmp.path(), &name, |s| s.correction = Correction::None);
    let (md, tex) = texts(&report);
    let n = report.analysis.tests;
    let noun = if n == 1 { "test" } else { "tests" };
    assert!(
        md.contains(&format!(
            "| Tests | {n} {noun} at α = 0.05, no correction for multiple tests;"
        )),
        "{md}"
    );
    assert!(tex.contains("no correction for multiple tests"), "{tex}");
    assert_no_known_slips(&md);
    assert_no_known_slips(&tex);
}
