//! `adskew analyze --counts FILE.csv`: the same analysis on counts from anywhere, and a
//! clear error, naming the line, for every kind of bad file (issue #6).

mod common;

use common::adskew;
use serde_json::Value;

/// The scipy/statsmodels reference values (tests/fixtures/statistics.json).
fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/statistics.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

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
