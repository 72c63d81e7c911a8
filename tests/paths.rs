//! Names that become paths are checked as paths, and a report's folder belongs to one run:
//! an experiment named `..` cannot write outside `--out`, an `--out` that is a file is
//! refused before anything runs, and a second run's report replaces the first's whole
//! instead of leaving its figures beside the new `results.json`.

mod common;

use common::{adskew_in, stderr_of as stderr};

use std::path::{Path, PathBuf};

fn pilot() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml"),
    )
    .unwrap()
}

/// The pilot under another name (and optionally other keys), written into `dir`.
fn pilot_named(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = edit(pilot().replace("name = \"pilot-two-ads\"", &format!("name = {name:?}")));
    // One file per text: the same name with other keys is another file.
    let file = dir.join(format!(
        "exp-{}-{:x}.toml",
        name.len(),
        text.bytes().map(u64::from).sum::<u64>()
    ));
    std::fs::write(&file, text).unwrap();
    file
}

/// Everything under `dir`, relative, sorted: what "nothing was written" is checked against.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn names_that_would_leave_the_folder_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let long = "a".repeat(300);
    for name in ["..", ".", ".hidden", long.as_str()] {
        let file = pilot_named(tmp.path(), name, |t| t);
        let file = file.to_str().unwrap();
        let before = listing(tmp.path());
        let refused = adskew_in(&work, &["validate", file]).code(2);
        let message = stderr(&refused);
        assert!(
            message.contains("name:") && message.contains("e.g."),
            "{name}: {message}"
        );
        let refused = adskew_in(&work, &["run", file, "--db", "a.db", "--out", "r"]).code(2);
        assert!(stderr(&refused).contains("name"), "{name}");
        assert_eq!(
            listing(tmp.path()),
            before,
            "`run` with name {name:?} wrote something"
        );
    }

    // An import's new experiment is named on the command line: the same rule.
    let export = tmp.path().join("2020-08-26_18:00.csv");
    std::fs::write(
        &export,
        "\"Ad Name\",Gender,Reach,Impressions,\"Amount Spent (USD)\",\"Reporting Starts\",\"Reporting Ends\"\n\
         Nurse,female,3,4,1.5,2020-08-01,2020-08-26\n",
    )
    .unwrap();
    let before = listing(tmp.path());
    for name in ["..", ".x"] {
        let refused = adskew_in(
            &work,
            &[
                "import",
                export.to_str().unwrap(),
                "--experiment",
                name,
                "--db",
                "a.db",
            ],
        )
        .code(2);
        assert!(stderr(&refused).contains("--experiment"), "{name}");
    }
    assert_eq!(listing(tmp.path()), before);
}

#[test]
fn an_out_that_is_a_file_is_refused_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("r"), "not a folder").unwrap();
    let file = pilot_named(tmp.path(), "pilot-two-ads", |t| t);
    let before = listing(tmp.path());
    let refused = adskew_in(
        tmp.path(),
        &["run", file.to_str().unwrap(), "--db", "a.db", "--out", "r"],
    )
    .code(2);
    assert!(
        stderr(&refused).contains("--out r: is a file"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(listing(tmp.path()), before, "a refused run wrote something");
}

#[test]
fn a_report_folder_holds_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = pilot_named(dir, "study", |t| t);
    // The second run of "study" compares other ads: its figures have other names.
    let second = pilot_named(dir, "study", |t| {
        t.replace("key = \"a-vs-b\"", "key = \"x-vs-b\"")
    });
    let run = |file: &Path| {
        adskew_in(
            dir,
            &[
                "run",
                file.to_str().unwrap(),
                "--db",
                "a.db",
                "--out",
                "r",
                "--quiet",
            ],
        )
        .success();
    };
    run(&first);
    let folder = dir.join("r/study");
    assert!(folder.join("a-vs-b-gender-female.svg").is_file());
    run(&second);
    let files = listing(&folder);
    assert!(
        !files.iter().any(|f| f.starts_with("a-vs-b")),
        "the first run's figures stayed beside the second run's report: {files:?}"
    );
    assert!(folder.join("x-vs-b-gender-female.svg").is_file());
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(results["experiment"]["id"], 2);

    // The report of run 1 again: the folder is run 1's, whole.
    adskew_in(dir, &["report", "1", "--db", "a.db", "--out", "r"]).success();
    let files = listing(&folder);
    assert!(!files.iter().any(|f| f.starts_with("x-vs-b")), "{files:?}");
    assert!(folder.join("a-vs-b-gender-female.svg").is_file());
    // Another format of the same run is added to its folder, not a replacement.
    adskew_in(
        dir,
        &[
            "report", "1", "--db", "a.db", "--out", "r", "--format", "pdf",
        ],
    )
    .success();
    assert!(folder.join("a-vs-b-gender-female.svg").is_file());
    assert!(folder.join("a-vs-b-gender-female.pdf").is_file());
    // No folder is left half-built or aside: the folder and the note of its run.
    let mut left = listing(&dir.join("r"));
    left.retain(|f| !f.starts_with("study/"));
    assert_eq!(left, [".study.run", "study"]);

    // A file adskew did not write is never deleted: the report is refused instead.
    std::fs::write(folder.join("notes.txt"), "mine").unwrap();
    std::fs::remove_file(dir.join("r/.study.run")).unwrap();
    let refused = adskew_in(dir, &["report", "2", "--db", "a.db", "--out", "r"]).code(2);
    assert!(
        stderr(&refused).contains("notes.txt"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// An ad's `image` is read and uploaded only if it is a picture: a path to any other file
/// (`../../etc/passwd`) is refused at validation, naming the field and the fix.
#[test]
fn an_image_path_to_a_file_that_is_not_a_picture_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(
        tmp.path().join("passwd"),
        "root:x:0:0:root:/root:/bin/bash\n",
    )
    .unwrap();
    let file = pilot_named(&deep, "pilot-two-ads", |t| {
        t.replacen(
            "daily_budget = 0.5",
            "daily_budget = 0.5\nimage = \"../../passwd\"",
            1,
        )
    });
    let refused = adskew_in(&deep, &["validate", file.to_str().unwrap()]).code(2);
    let message = stderr(&refused);
    assert!(message.contains("ads[0].image"), "{message}");
    assert!(message.contains("not a PNG, JPEG or GIF"), "{message}");
}
