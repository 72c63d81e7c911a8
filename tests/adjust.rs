//! `adskew adjust`: p-values given on the command line, in a file or on stdin, corrected as
//! statsmodels' `multipletests` corrects them (issue 18), and every bad value refused with
//! where it was and the fix (exit code 2, nothing printed).

mod common;

use common::{adskew, stat_fixtures as fixtures};
use serde_json::Value;

fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = adskew().args(args).write_stdin(stdin).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn close(ours: f64, theirs: f64) -> bool {
    ((ours - theirs) / theirs).abs() <= 1e-12
}

#[test]
fn adjusted_values_and_rejections_match_statsmodels() {
    // multipletests(p, alpha=0.05, method=...), every case of the fixtures.
    let f = fixtures();
    let cases = f["corrections"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for case in cases {
        let p: Vec<String> = case["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        let method = case["method"].as_str().unwrap();
        let mut args = vec!["adjust", "--json", "--method", method];
        args.extend(p.iter().map(String::as_str));
        let (code, stdout, stderr) = run(&args, "");
        assert_eq!(code, 0, "{stderr}");
        let r: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(r["reject"], case["reject_at_0.05"], "{method} {p:?}");
        assert_eq!(r["tests"], p.len());
        let ours = r["adjusted"].as_array().unwrap();
        let theirs = case["adjusted"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(theirs) {
            assert!(
                close(o.as_f64().unwrap(), t.as_f64().unwrap()),
                "{method} {p:?}: {ours:?} vs {theirs:?}"
            );
        }
    }
}

#[test]
fn a_file_or_stdin_gives_the_same_as_arguments() {
    let (_, from_args, _) = run(&["adjust", "--method", "bh", "0.01", "0.04", "0.03"], "");
    let (code, from_stdin, stderr) = run(
        &["adjust", "--method", "bh", "--file", "-"],
        "# from a paper's table 2\n0.01, 0.04\n\n0.03\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_stdin, from_args);
    // Benjamini–Hochberg of 0.01, 0.04, 0.03: 0.03, 0.04, 0.04, in the order given.
    assert!(from_args.contains("0.03"), "{from_args}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.txt");
    std::fs::write(&file, "0.01\t0.04\n0.03\n").unwrap();
    let (code, from_file, stderr) = run(
        &["adjust", "--method", "bh", "--file", file.to_str().unwrap()],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_file, from_args);
}

#[test]
fn bad_values_are_refused_with_where_they_are() {
    let (code, stdout, stderr) = run(&["adjust", "0.01", "1.2", "abc"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("argument 2: `1.2` is outside 0 to 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("argument 3: `abc` is not a number"),
        "{stderr}"
    );
    assert!(stderr.contains("numbers from 0 to 1"), "{stderr}");

    let (code, stdout, stderr) = run(&["adjust", "--file", "-"], "0.2\np_value\n0.3 -0.1\n");
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("stdin: line 2: `p_value` is not a number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stdin: line 3: `-0.1` is outside 0 to 1"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["adjust"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("--file"), "{stderr}");

    let (code, _, stderr) = run(&["adjust", "--method", "sidak", "0.1"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("holm"), "{stderr}");

    let (code, _, stderr) = run(&["adjust", "--method", "none", "0.1"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("bonferroni, holm, bh"), "{stderr}");

    let (code, _, stderr) = run(&["adjust", "--file", "/nonexistent/p.txt"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/p.txt"), "{stderr}");
}
