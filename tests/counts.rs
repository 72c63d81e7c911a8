//! `adskew analyze --counts FILE.csv`: the same analysis on counts from anywhere, and a
//! clear error, naming the line, for every kind of bad file (issue #6).

mod common;

use common::{adskew, stat_fixtures as fixtures};
use serde_json::Value;

fn analyze(text: &[u8]) -> (i32, String, String) {
    analyze_with(text, &[])
}

fn analyze_with(text: &[u8], args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counts.csv");
    std::fs::write(&file, text).unwrap();
    let out = adskew()
        .args(["analyze", "--json", "--counts"])
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn counts_give_the_same_statistics_as_scipy() {
    let (code, stdout, stderr) = analyze(
        b"comparison,ad,dimension,group,reach\n\
          c,a,gender,female,120\nc,a,gender,male,80\nc,b,gender,female,90\nc,b,gender,male,110\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let chi = &r["comparisons"][0]["breakdowns"][0]["chi2"];
    // scipy.stats.chi2_contingency([[120, 80], [90, 110]], correction=False)
    let fixtures = fixtures();
    let reference = fixtures["chi_square"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == serde_json::json!([[120, 80], [90, 110]]) && c["yates"] == false)
        .unwrap();
    let ours = chi["statistic"].as_f64().unwrap();
    let theirs = reference["statistic"].as_f64().unwrap();
    assert!(((ours - theirs) / theirs).abs() < 1e-9);
    // 2 × 2: Fisher's exact test is there too, and the two-ad z-test.
    assert!(r["comparisons"][0]["breakdowns"][0]["fisher"]["p_value"].is_number());
    assert!(r["comparisons"][0]["breakdowns"][0]["z_test"]["p_value"].is_number());
}

#[test]
fn without_a_comparison_column_ads_are_compared_together_and_pairwise() {
    let (code, stdout, stderr) = analyze(
        b"ad,dimension,group,impressions\n\
          a,gender,female,10\nb,gender,female,3\nc,gender,female,4\n\
          a,gender,male,5\nb,gender,male,9\nc,gender,male,4\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["all", "a-vs-b", "a-vs-c", "b-vs-c"]);
    assert_eq!(r["settings"]["metric"], "impressions");
    // One chi-square per comparison and a z-test per pair, corrected together.
    assert_eq!(r["tests"], 7);
}

#[test]
fn bad_files_are_refused_with_their_line() {
    let cases: [(&[u8], &str); 7] = [
        (
            b"ad,group,reach\na,female,1\n",
            "missing column(s) dimension",
        ),
        (
            b"ad,dimension,group,reach,colour\na,gender,female,1,red\n",
            "unknown column `colour`",
        ),
        (
            b"ad,dimension,group,reach\na,gender,female,1\na,gender,male,-3\n",
            "line 3: reach `-3` is not a count",
        ),
        (
            b"ad,dimension,group,reach\na,gender,female,1.5\n",
            "line 2: reach `1.5` is not a count",
        ),
        (
            b"ad,dimension,group,reach\na,dma,female,1\n",
            "line 2: unknown dimension `dma`",
        ),
        (
            b"ad,dimension,group,reach\na,gender,female,1\nb,gender,male,1\na,gender,female,2\n",
            "line 4: repeats line 2",
        ),
        (
            b"ad,dimension,group,reach\na,gender,f\xe9male,1\n",
            "line 2: is not UTF-8",
        ),
    ];
    for (text, expected) in cases {
        let (code, stdout, stderr) = analyze(text);
        assert_eq!(code, 2, "{expected}: {stderr}");
        assert!(
            stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
        assert!(stdout.is_empty(), "nothing is analysed: {stdout}");
    }
}

#[test]
fn expected_shares_give_goodness_of_fit_as_scipy() {
    // scipy.stats.chisquare([600, 400], f_exp=[500, 500]) is a fixture case.
    let csv = b"ad,dimension,group,reach\na,gender,female,600\na,gender,male,400\n\
                b,gender,female,510\nb,gender,male,490\n";
    let (code, stdout, stderr) = analyze_with(csv, &["--expected", "female=0.5,male=0.5"]);
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let b = &r["comparisons"][0]["breakdowns"][0];
    assert_eq!(b["eligible_source"], "command line");
    let fit = &b["goodness_of_fit"][0];
    assert_eq!(fit["ad"], "a");
    let fixtures = fixtures();
    let reference = fixtures["goodness_of_fit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["observed"] == serde_json::json!([600, 400]))
        .unwrap();
    for key in ["statistic", "p_value", "total_variation"] {
        let (ours, theirs) = (fit[key].as_f64().unwrap(), reference[key].as_f64().unwrap());
        assert!(
            ((ours - theirs) / theirs).abs() < 1e-9,
            "{key}: {ours} vs {theirs}"
        );
    }
    assert!((fit["skew_ratios"]["female"].as_f64().unwrap() - 1.2).abs() < 1e-12);
    assert!((fit["skew_ratios"]["male"].as_f64().unwrap() - 0.8).abs() < 1e-12);
    // Without expected shares there is nothing to fit to (not the simulator): no test.
    let (_, stdout, _) = analyze(csv);
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        r["comparisons"][0]["breakdowns"][0]["goodness_of_fit"],
        serde_json::json!([])
    );
}

#[test]
fn bad_expected_shares_are_refused() {
    let csv = b"ad,dimension,group,reach\na,gender,female,6\na,gender,male,4\nb,gender,female,5\nb,gender,male,5\n";
    for (arg, says) in [
        ("female=0.6,male=0.6", "sum to 1.2"),
        ("female=0.5", "at least two groups"),
        ("female=half,male=0.5", "not a number"),
        ("women=0.5,men=0.5", "name the breakdown"),
        ("female=1.0,male=0", "must be positive"),
    ] {
        let (code, _, stderr) = analyze_with(csv, &["--expected", arg]);
        assert_eq!(code, 2, "{arg}: {stderr}");
        assert!(stderr.contains(says), "{arg}: {stderr}");
    }
}

#[test]
fn degenerate_tables_are_reported_not_tested() {
    // An ad that reached nobody, and a breakdown where only one group was reached: the
    // shares are there, the tests are not, and `not_tested` says why.
    let csv = b"ad,dimension,group,reach\na,gender,female,0\na,gender,male,0\nb,gender,female,5\nb,gender,male,7\n\
                a,age,25-34,10\nb,age,25-34,12\n";
    let (code, stdout, stderr) = analyze(csv);
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let bs = r["comparisons"][0]["breakdowns"].as_array().unwrap();
    let gender = bs.iter().find(|b| b["breakdown"] == "gender").unwrap();
    assert!(gender["chi2"].is_null() && gender["z_test"].is_null());
    assert!(gender["not_tested"]
        .as_str()
        .unwrap()
        .contains("no delivery"));
    // A share of nothing is undefined, and says so (not a bare null).
    let share = gender["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ad"] == "a")
        .unwrap();
    assert_eq!(share["share"], "nan");
    assert_eq!(share["ci"]["low"], "nan");
    let age = bs.iter().find(|b| b["breakdown"] == "age").unwrap();
    assert!(age["chi2"].is_null());
    assert!(age["not_tested"]
        .as_str()
        .unwrap()
        .contains("only one age group"));
    assert_eq!(r["tests"], 0);
}

/// Every class of bad line in one file: each listed at once with its line, the column or
/// value, and the fix; nothing is analysed.
#[test]
fn every_bad_line_is_listed_at_once_with_its_fix() {
    let (code, stdout, stderr) = analyze(
        b"ad,dimension,group,reach\n\
          a,gender,female,10\n\
          a,gender,fmale,10\n\
          a,age,17-20,5\n\
          B,gender,male,3\n\
          b,gender,male,-3\n\
          b,gender,female,1000000000001\n\
          b,dma,female,1\n\
          b,gender,female\n\
          a,gender,female,10\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "nothing is analysed: {stdout}");
    for expected in [
        "has 8 problems; fix them and run again",
        "line 3: gender group `fmale` is not one adskew knows; the gender groups are female, male, unknown",
        "line 4: age group `17-20` is not one adskew knows; the age groups are 18-24, 25-34, 35-44, 45-54, 55-64, 65+, Unknown",
        "line 5: ad `B` must be a key: lowercase letters, digits, - and _; rename it",
        "line 6: reach `-3` is not a count: it is negative; write a whole number from 0 to 1000000000000 (10^12)",
        "line 7: reach `1000000000001` is not a count: it is above 1000000000000 (10^12)",
        "line 8: unknown dimension `dma`; use gender, age or region",
        "line 9: has 3 fields where the header has 4; give every line one value per column",
        "line 10: repeats line 2 (a, gender, female); give each count once",
    ] {
        assert!(stderr.contains(expected), "expected `{expected}` in: {stderr}");
    }
    assert_eq!(
        stderr.matches("counts.csv: line ").count(),
        8,
        "each problem names the file: {stderr}"
    );
}

/// A file with many bad lines lists the first twenty and counts the rest.
#[test]
fn only_the_first_twenty_problems_are_listed() {
    let mut text = String::from("ad,dimension,group,reach\n");
    for i in 0..25 {
        text.push_str(&format!("a{i},gender,x,1\n"));
    }
    let (code, stdout, stderr) = analyze(text.as_bytes());
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("has 25 problems"), "{stderr}");
    assert!(stderr.contains("line 21: gender group `x`"), "{stderr}");
    assert!(!stderr.contains("line 22:"), "{stderr}");
    assert!(stderr.contains("and 5 more"), "{stderr}");
}

/// Header names in any case, a byte-order mark, and a comma, semicolon or tab as the
/// separator: the same file, the same numbers.
#[test]
fn header_spellings_and_separators_are_read_as_spreadsheets_write_them() {
    let rows = [
        ["ad", "dimension", "group", "reach"],
        ["a", "gender", "female", "120"],
        ["a", "gender", "male", "80"],
        ["b", "gender", "Female", "90"],
        ["b", "gender", "MALE", "110"],
    ];
    let file = |sep: &str, header: &str| {
        let mut text = format!("{header}\n");
        for r in &rows[1..] {
            text.push_str(&r.join(sep));
            text.push('\n');
        }
        text
    };
    let chi = |stdout: &str| {
        let r: Value = serde_json::from_str(stdout).unwrap();
        r["comparisons"][0]["breakdowns"][0]["chi2"]["statistic"]
            .as_f64()
            .unwrap()
    };
    let (code, reference, stderr) = analyze(file(",", &rows[0].join(",")).as_bytes());
    assert_eq!(code, 0, "{stderr}");
    for text in [
        file(";", "Ad;Dimension;Group;Reach"),
        file("\t", "AD\tDIMENSION\tGROUP\tREACH"),
        format!("\u{feff}{}", file(",", "Ad, Dimension ,group,Reach")),
    ] {
        let (code, stdout, stderr) = analyze(text.as_bytes());
        assert_eq!(code, 0, "{text}: {stderr}");
        assert_eq!(chi(&stdout), chi(&reference), "{text}");
    }
}

/// A value with a terminal escape sequence is shown escaped, never raw.
#[test]
fn control_characters_in_values_are_never_echoed() {
    let (code, _, stderr) =
        analyze(b"ad,dimension,group,reach,\x1b[2Jcolour\na,gender,\x1b[31mfemale,1,1\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
    assert!(
        stderr.contains("unknown column `\\u{1b}[2jcolour`"),
        "{stderr}"
    );
}

/// Counts at the bound, 10^12 per cell, are analysed at once (summing the whole support of
/// Fisher's test took minutes and gigabytes) with exact sums and mpmath's Fisher p.
#[test]
fn a_trillion_per_cell_is_analysed_exactly_and_at_once() {
    let e: u64 = 1_000_000_000_000;
    let f = e - 100_000_000;
    let text = format!(
        "ad,dimension,group,reach\na,gender,female,{e}\na,gender,male,{f}\n\
         b,gender,female,{f}\nb,gender,male,{e}\n"
    );
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = analyze(text.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["ads"][0]["reach"], e + f);
    let b = &r["comparisons"][0]["breakdowns"][0];
    // Cramér's V of [[e, f], [f, e]] is (e − f) / (e + f).
    let v = b["cramers_v"].as_f64().unwrap();
    let exact = (e - f) as f64 / (e + f) as f64;
    assert!(((v - exact) / exact).abs() < 1e-9, "{v} vs {exact}");
    let fixtures = fixtures();
    let reference = fixtures["fisher"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == serde_json::json!([[e, f], [f, e]]))
        .expect("the fixture of this table");
    let ours = b["fisher"]["log10_p_value"].as_f64().unwrap();
    let theirs = reference["log10_p"].as_f64().unwrap();
    assert!(
        ((ours - theirs) / theirs).abs() < 1e-9,
        "{ours} vs {theirs}"
    );
}

/// The fixture of `kind` whose fields `key` equal `value`.
fn reference<'a>(fixtures: &'a Value, kind: &str, matches: &[(&str, Value)]) -> &'a Value {
    fixtures[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| matches.iter().all(|(k, v)| c[*k] == *v))
        .unwrap_or_else(|| panic!("no {kind} fixture {matches:?}"))
}

fn assert_close(ours: &Value, theirs: &Value, rel: f64, what: &str) {
    let (o, t) = (ours.as_f64().unwrap(), theirs.as_f64().unwrap());
    assert!(((o - t) / t).abs() <= rel, "{what}: {o} vs {t}");
}

#[test]
fn one_sided_tests_follow_the_alternative_flag() {
    // Ad a's share of women is the larger: "greater" is the side of the observed difference.
    let f = fixtures();
    let table = b"comparison,ad,dimension,group,reach\n\
          c,a,gender,female,120\nc,a,gender,male,80\nc,b,gender,female,90\nc,b,gender,male,110\n";
    for (flag, scipy) in [("greater", "greater"), ("less", "less")] {
        let (code, stdout, stderr) = analyze_with(table, &["--alternative", flag]);
        assert_eq!(code, 0, "{stderr}");
        let r: Value = serde_json::from_str(&stdout).unwrap();
        let b = &r["comparisons"][0]["breakdowns"][0];
        // scipy.stats.fisher_exact([[120, 80], [90, 110]], alternative=...)
        let fisher = reference(
            &f,
            "fisher_one_sided",
            &[
                ("table", serde_json::json!([[120, 80], [90, 110]])),
                ("alternative", scipy.into()),
            ],
        );
        assert_close(
            &b["fisher"]["p_value"],
            &fisher["p_value"],
            1e-8,
            "Fisher p",
        );
        assert_close(
            &b["fisher"]["log10_p_value"],
            &fisher["log10_p"],
            1e-8,
            "log10 p",
        );
        assert_eq!(
            r["settings"]["alternative"],
            if flag == "greater" {
                "larger"
            } else {
                "smaller"
            }
        );
    }
    // The z-test against statsmodels' proportions_ztest([60, 40], [100, 100], alternative).
    let (code, stdout, stderr) = analyze_with(
        b"ad,dimension,group,reach\na,gender,female,60\na,gender,male,40\nb,gender,female,40\nb,gender,male,60\n",
        &["--alternative", "less"],
    );
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let z = &r["comparisons"][0]["breakdowns"][0]["z_test"];
    let theirs = reference(
        &f,
        "two_proportion_z",
        &[
            ("x1", 60.into()),
            ("n1", 100.into()),
            ("x2", 40.into()),
            ("alternative", "smaller".into()),
        ],
    );
    assert_eq!(z["alternative"], "smaller");
    assert_close(&z["statistic"], &theirs["z"], 1e-9, "z");
    assert_close(&z["p_value"], &theirs["p_value"], 1e-8, "z p");
    // Without the flag both stay two-sided, as before.
    let (_, stdout, _) = analyze(table);
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let b = &r["comparisons"][0]["breakdowns"][0];
    assert!(b["fisher"].get("alternative").is_none(), "{}", b["fisher"]);
    assert_eq!(b["z_test"]["alternative"], "two-sided");
    // A misspelt alternative is refused, naming the flag and the choices.
    let (code, _, stderr) = analyze_with(table, &["--alternative", "bigger"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--alternative") && stderr.contains("greater"),
        "{stderr}"
    );
}

#[test]
fn expected_frequencies_and_the_yates_g_test_match_scipy() {
    let f = fixtures();
    let (code, stdout, stderr) = analyze_with(
        b"comparison,ad,dimension,group,reach\n\
          c,a,gender,female,120\nc,a,gender,male,80\nc,b,gender,female,90\nc,b,gender,male,110\n",
        &["--yates"],
    );
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let b = &r["comparisons"][0]["breakdowns"][0];
    let table = serde_json::json!([[120, 80], [90, 110]]);
    // scipy.stats.chi2_contingency(table).expected_freq
    let expected = reference(&f, "expected_frequencies", &[("table", table.clone())]);
    for (ours, theirs) in b["expected_frequencies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .zip(
            expected["expected"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r.as_array().unwrap()),
        )
    {
        assert_close(ours, theirs, 1e-12, "expected frequency");
    }
    // chi2_contingency(table, correction=True, lambda_="log-likelihood")
    let g = reference(&f, "g_test_yates", &[("table", table)]);
    assert_eq!(b["g_test"]["yates"], true);
    assert_close(&b["g_test"]["statistic"], &g["statistic"], 1e-9, "G");
    assert_close(&b["g_test"]["p_value"], &g["p_value"], 1e-8, "G p");
}
