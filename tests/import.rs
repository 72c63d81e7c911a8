//! `adskew import`: Ads Manager exports into the store through the binary, analysed like a
//! collected run, and every kind of bad file refused with its line and nothing written.

mod common;

use std::path::{Path, PathBuf};

use adskew::store::Store;
use common::adskew;
use serde_json::Value;
use sha2::{Digest, Sha256};

const HEADER: &str = "\"Ad Set Name\",Gender,Reach,Impressions,Frequency,\"Result Type\",Results,\"Cost per Result\",\"Amount Spent (EUR)\",\"CPM (Cost per 1,000 Impressions)\",\"Link Clicks\",\"CPC (Cost per Link Click)\",\"CTR (Link Click-Through Rate)\",\"Reporting Starts\",\"Reporting Ends\"";

const ADS: [&str; 3] = [
    "DE - Germany - Hairdresser",
    "DE - Germany - Legal Counsel",
    "DE - Germany - Truck Driver",
];
const KEYS: [&str; 3] = [
    "de-germany-hairdresser",
    "de-germany-legal-counsel",
    "de-germany-truck-driver",
];

/// Women and men reached by each ad in snapshot `k` (cumulative: growing with k).
fn reach(k: u64) -> [(u64, u64); 3] {
    [(600 * k, 100 * k), (200 * k, 450 * k), (50 * k, 500 * k)]
}

/// An export of the three ads in the format AlgorithmWatch downloaded, snapshot `k`.
fn snapshot(k: u64) -> String {
    let mut text = format!("{HEADER}\n");
    for (name, (f, m)) in ADS.iter().zip(reach(k)) {
        text += &format!(
            "\"{name}\",female,{f},{},1.0014727540501,\"Link Clicks\",17,0.1368,{k}.3265551839465,3.42140468,17,0.13685619,2.5,2020-08-01,2020-08-26\n",
            f + 1
        );
        text += &format!(
            "\"{name}\",male,{m},{m},1,,,,1.2700709219858,2.82237983,,,,2020-08-01,2020-08-26\n"
        );
        if k > 1 {
            // Missing zero rows are fine: the first snapshot has no "unknown".
            text += &format!(
                "\"{name}\",unknown,2,2,1,,,,0.011404682274247,5.70234114,,,,2020-08-01,2020-08-26\n"
            );
        }
    }
    text
}

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("adskew.db")
    }

    fn file(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs adskew with this folder's database: (exit code, stdout, stderr).
    fn run<I, S>(&self, args: I) -> (i32, String, String)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = adskew()
            .args(args)
            .arg("--db")
            .arg(self.db())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn import(&self, files: &[&Path], experiment: &str) -> (i32, String, String) {
        let mut args: Vec<&std::ffi::OsStr> = vec!["import".as_ref()];
        args.extend(files.iter().map(|f| f.as_os_str()));
        args.push("--experiment".as_ref());
        args.push(experiment.as_ref());
        self.run(args)
    }

    fn analyze(&self, experiment: &str) -> Value {
        let (code, stdout, stderr) = self.run(["analyze", experiment, "--json"]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    }

    /// The database file's hash and its rows per table: what "unchanged" means.
    fn state(&self) -> (String, Vec<i64>) {
        let bytes = std::fs::read(self.db()).unwrap_or_default();
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        let counts = [
            "experiments",
            "experiment_events",
            "collections",
            "delivery",
            "imports",
        ]
        .iter()
        .map(|t| {
            conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))
                .unwrap()
        })
        .collect();
        (format!("{:x}", Sha256::digest(&bytes)), counts)
    }
}

/// The breakdown `b` of comparison `c` of an analysis.
fn breakdown<'a>(a: &'a Value, c: &str, b: &str) -> &'a Value {
    let cmp = a["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == c)
        .unwrap_or_else(|| panic!("no comparison {c}"));
    cmp["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["breakdown"] == b)
        .unwrap_or_else(|| panic!("no breakdown {b}"))
}

#[test]
fn three_snapshots_of_three_ads_are_analysed_from_the_last() {
    let d = Dir::new();
    let files = [
        d.file("2020-08-26_18:32.csv", snapshot(2)),
        // A BOM and a totals row, as Ads Manager sometimes writes them.
        d.file(
            "2020-08-26_18:00.csv",
            format!(
                "\u{feff}{}",
                snapshot(1).replacen('\n', "\n,,1900,1910,,,,,4.1,,,,,2020-08-01,2020-08-26\n", 1)
            ),
        ),
        d.file("export-2020-08-26T19_05.csv", snapshot(3)),
    ];
    // Given in no particular order: stored by snapshot time.
    let (code, stdout, stderr) = d.import(&[&files[0], &files[1], &files[2]], "aw-de");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("line 2: skipped a totals row"), "{stdout}");
    assert!(stdout.contains("into the new experiment aw-de"), "{stdout}");

    let a = d.analyze("aw-de");
    assert_eq!(a["experiment"]["platform"], "import");
    assert_eq!(a["experiment"]["state"], "completed");
    assert_eq!(a["data"]["collections"], 3);
    assert_eq!(a["data"]["last_collection_at"], "2020-08-26T19:05:00Z");
    assert_eq!(a["data"]["currency"], "EUR");
    // The last snapshot's counts; unknown gender kept out of the test.
    let gender = breakdown(&a, "all", "gender");
    assert_eq!(gender["groups"], serde_json::json!(["female", "male"]));
    let expected: Vec<Vec<u64>> = reach(3).iter().map(|(f, m)| vec![*f, *m]).collect();
    assert_eq!(gender["table"], serde_json::json!(expected));
    assert_eq!(gender["excluded"], serde_json::json!([2, 2, 2]));
    let keys: Vec<&str> = a["ads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, KEYS);
    assert_eq!(a["ads"][0]["headline"], ADS[0]);
    assert_eq!(a["ads"][0]["reach"], 1800 + 300 + 2);
    assert_eq!(a["ads"][0]["clicks"], 17);
    // 3.3265... + 1.2700... + 0.0114... = 4.608...
    assert_eq!(a["ads"][0]["spend"], 461);
    let comparisons: Vec<&str> = a["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        comparisons.len(),
        4,
        "all, and three pairs: {comparisons:?}"
    );

    let (code, status, _) = d.run(["status"]);
    assert_eq!(code, 0);
    let line = status.lines().find(|l| l.contains("aw-de")).unwrap();
    assert!(
        line.contains("completed") && line.contains("import"),
        "{line}"
    );
    assert!(line.contains("2020-08-26T19:05:00Z"), "{line}");

    let out = d.dir.path().join("reports");
    let (code, _, stderr) = d.run([
        "report".as_ref(),
        "aw-de".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report = std::fs::read_to_string(out.join("aw-de/report.md")).unwrap();
    assert!(report.contains("(in the latest export)"), "{report}");
    assert!(
        !report.contains("eligible audience"),
        "no simulator truth is assumed"
    );

    // Provenance: each file, its hash, its snapshot time and how it was found.
    let store = Store::open(&d.db()).unwrap();
    let imports = store.imports(1).unwrap();
    assert_eq!(imports.len(), 3);
    assert_eq!(imports[0].snapshot_at, "2020-08-26T18:00:00Z");
    assert_eq!(imports[0].snapshot_from, "file name");
    let bytes = std::fs::read(&files[1]).unwrap();
    assert_eq!(
        imports[0].file_sha256,
        format!("{:x}", Sha256::digest(&bytes))
    );
    assert_eq!(store.imported_file(imports[0].id).unwrap(), bytes);
}

#[test]
fn importing_the_same_file_again_changes_nothing() {
    let d = Dir::new();
    let first = d.file("2020-08-26_18:00.csv", snapshot(1));
    assert_eq!(d.import(&[&first], "aw").0, 0);
    let before = d.state();
    let copy = d.file("copy-of-the-first.csv", snapshot(1));
    let (code, stdout, stderr) = d.import(&[&first, &copy], "aw");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("skipped: already imported into aw (run 1)"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing new to import"), "{stdout}");
    assert_eq!(d.state(), before);
}

#[test]
fn age_by_gender_gives_a_gender_and_an_age_breakdown() {
    let d = Dir::new();
    let mut text = "\"Ad Name\",Age,Gender,Reach,Impressions,\"Amount Spent (USD)\",\"Clicks (All)\",\"Reporting Starts\",\"Reporting Ends\"\n".to_string();
    for (ad, scale) in [("Nurse", 1), ("Lumberjack", 2)] {
        for (age, n) in [("18-24", 10), ("25-34", 20), ("65+", 5)] {
            text += &format!(
                "{ad},{age},female,{},{},0.5,1,2020-08-01,2020-08-03\n",
                n * scale * 3,
                n * 9
            );
            text += &format!(
                "{ad},{age},male,{},{},0.5,,2020-08-01,2020-08-03\n",
                n * scale * 5,
                n * 9
            );
        }
    }
    let file = d.file("ages-2020-08-04_07-00.csv", text);
    let (code, _, stderr) = d.import(&[&file], "nurses");
    assert_eq!(code, 0, "{stderr}");
    let a = d.analyze("nurses");
    let gender = breakdown(&a, "all", "gender");
    // Summed over ages: 35 × 3 women and 35 × 5 men for Nurse, twice that for Lumberjack.
    assert_eq!(gender["table"], serde_json::json!([[105, 175], [210, 350]]));
    let age = breakdown(&a, "all", "age");
    assert_eq!(age["groups"], serde_json::json!(["18-24", "25-34", "65+"]));
    assert_eq!(
        age["table"],
        serde_json::json!([[80, 160, 40], [160, 320, 80]])
    );
    assert_eq!(a["ads"][0]["key"], "nurse");
    assert_eq!(a["ads"][0]["reach"], 280);
    assert_eq!(a["ads"][0]["spend"], 300, "six cells of 0.50 USD");
    assert_eq!(a["data"]["spend"], 600);
}

#[test]
fn later_exports_are_added_to_an_existing_run_by_name() {
    let d = Dir::new();
    let first = d.file("2020-08-26_18:00.csv", snapshot(1));
    assert_eq!(d.import(&[&first], "aw").0, 0);
    // Ads named the way adskew names its Meta objects, by headline, and by key.
    let renamed = snapshot(2)
        .replace(ADS[0], &format!("adskew/aw/1/{}", KEYS[0]))
        .replace(ADS[2], KEYS[2]);
    let second = d.file("2020-08-27_09:00.csv", renamed);
    let (code, stdout, stderr) = d.import(&[&second], "aw");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("into aw (run 1)"), "{stdout}");
    let a = d.analyze("aw");
    assert_eq!(a["data"]["collections"], 2);
    let expected: Vec<Vec<u64>> = reach(2).iter().map(|(f, m)| vec![*f, *m]).collect();
    assert_eq!(
        breakdown(&a, "all", "gender")["table"],
        serde_json::json!(expected)
    );

    // An ad of another run, an ad the run does not have, and a snapshot older than the
    // run's latest are refused; nothing changes.
    let before = d.state();
    let cases = [
        (
            snapshot(3).replace(ADS[0], &format!("adskew/aw/7/{}", KEYS[0])),
            "2020-08-28_09:00.csv",
            "line 2: `adskew/aw/7/de-germany-hairdresser` is an ad of run 7",
        ),
        (
            snapshot(3).replace(ADS[1], "DE - Germany - Nurse"),
            "2020-08-28_09:00.csv",
            "line 5: `DE - Germany - Nurse` is none of the ads of aw (run 1)",
        ),
        (
            snapshot(3),
            "2020-08-26_20:00.csv",
            "is not newer than the latest collection of aw (run 1) at 2020-08-27T09:00:00Z",
        ),
    ];
    for (text, name, expected) in cases {
        let file = d.file(name, text);
        let (code, _, stderr) = d.import(&[&file], "aw");
        assert_eq!(code, 2, "{expected}: {stderr}");
        assert!(
            stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
        assert_eq!(d.state(), before, "{expected}");
        std::fs::remove_file(file).unwrap();
    }
}

#[test]
fn exports_are_not_added_to_a_simulated_run() {
    let d = Dir::new();
    let pilot = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml");
    let out = d.dir.path().join("out");
    let (code, _, stderr) = d.run([
        "run".as_ref(),
        pilot.as_os_str(),
        "--quiet".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let file = d.file("2020-08-26_18:00.csv", snapshot(1));
    let before = d.state();
    let (code, _, stderr) = d.import(&[&file], "1");
    assert_eq!(code, 2);
    assert!(stderr.contains("ran on the sim platform"), "{stderr}");
    assert_eq!(d.state(), before);
}

#[test]
fn without_a_time_in_the_name_the_modification_time_orders_the_files() {
    let d = Dir::new();
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let newer = d.file("b.csv", snapshot(1));
    let older = d.file("a.csv", snapshot(2));
    std::fs::File::options()
        .write(true)
        .open(&newer)
        .unwrap()
        .set_modified(at(1_600_000_000))
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&older)
        .unwrap()
        .set_modified(at(1_500_000_000))
        .unwrap();
    let (code, stdout, stderr) = d.import(&[&older, &newer], "by-mtime");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(from its modification time)"), "{stdout}");
    let a = d.analyze("by-mtime");
    assert_eq!(a["data"]["last_collection_at"], "2020-09-13T12:26:40Z");
    let expected: Vec<Vec<u64>> = reach(1).iter().map(|(f, m)| vec![*f, *m]).collect();
    assert_eq!(
        breakdown(&a, "all", "gender")["table"],
        serde_json::json!(expected)
    );
}

/// Every bad file: exit 2, the file and line named with the fix, and the database exactly
/// as it was (the good file given with it is not imported either).
#[test]
fn bad_files_are_refused_whole_with_their_line() {
    let d = Dir::new();
    let seed = d.file("2020-08-20_12:00.csv", snapshot(1));
    assert_eq!(d.import(&[&seed], "existing").0, 0);
    let before = d.state();
    let good = d.file("2020-08-26_18:00.csv", snapshot(1));
    let row = "\"DE - Germany - Hairdresser\",male,450,450,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26";
    let with_row = |line: &str| format!("{HEADER}\n{row}\n{line}\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "missing column",
            snapshot(2).replacen("Reach,", "People,", 1).into_bytes(),
            "line 1: no \"Reach\" column. The columns are: \"Ad Set Name\", \"Gender\", \"People\"",
        ),
        (
            "negative count",
            with_row("\"DE - Germany - Hairdresser\",female,-3,450,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26").into_bytes(),
            "line 3: Reach `-3` is negative",
        ),
        (
            "count beyond the bound (one that would not fit the store's integers included)",
            with_row("\"DE - Germany - Hairdresser\",female,18446744073709551615,450,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26").into_bytes(),
            "line 3: Reach `18446744073709551615` is above 1000000000000 (10^12), more than any platform reports for one group of one ad; it must be a count (write a whole number from 0 to 1000000000000 (10^12)",
        ),
        (
            "fractional count",
            with_row("\"DE - Germany - Hairdresser\",female,3,1.5,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26").into_bytes(),
            "line 3: Impressions `1.5` is not a whole number",
        ),
        (
            "unknown gender",
            with_row("\"DE - Germany - Hairdresser\",x,3,3,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26").into_bytes(),
            "line 3: Gender `x` is not one adskew knows; the values are female, male, unknown",
        ),
        (
            "duplicate row",
            with_row(row).into_bytes(),
            "line 3: repeats line 2 (`DE - Germany - Hairdresser`, male)",
        ),
        (
            "no dates",
            with_row("\"DE - Germany - Legal Counsel\",male,3,3,1,,,,1.27,2.8,,,,2020-08-01,").into_bytes(),
            "line 3: Reporting Ends is empty",
        ),
        (
            "not UTF-8",
            with_row("\"DE - Germany - Fris\u{00f6}r\",male,3,3,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26")
                .replace('\u{00f6}', "\u{0}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 0 { 0xf6 } else { b })
                .collect(),
            "line 3: is not UTF-8",
        ),
        ("empty", Vec::new(), "is empty: export the report again"),
        (
            "other currency",
            snapshot(2).replace("(EUR)", "(USD)").into_bytes(),
            "line 1: spends in USD but",
        ),
    ];
    for (what, text, expected) in cases {
        let bad = d.file("2020-08-26_19:00.csv", &text);
        let (code, stdout, stderr) = d.import(&[&good, &bad], "new-one");
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{what}: expected `{expected}` in: {stderr}"
        );
        assert!(
            stderr.contains("2020-08-26_19:00.csv"),
            "{what}: names the file: {stderr}"
        );
        assert!(stdout.is_empty(), "{what}: {stdout}");
        assert_eq!(d.state(), before, "{what}: the database is unchanged");
    }

    // Two different files of the same moment.
    let twin = d.file("copy-2020-08-26_18:00.csv", snapshot(2));
    let (code, _, stderr) = d.import(&[&good, &twin], "new-one");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("are different files of the same moment (2020-08-26T18:00:00+00:00"),
        "{stderr}"
    );
    assert_eq!(d.state(), before);

    // A new experiment needs a name that is not a run id, and ads whose keys differ.
    let (code, _, stderr) = d.import(&[&good], "42");
    assert_eq!(code, 2);
    assert!(stderr.contains("there is no run with id 42"), "{stderr}");
    let clash = d.file(
        "2020-08-26_20:00.csv",
        snapshot(1).replace(ADS[1], "de germany HAIRDRESSER"),
    );
    let (code, _, stderr) = d.import(&[&clash], "new-one");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("line 4: `de germany HAIRDRESSER` and `DE - Germany - Hairdresser`"),
        "{stderr}"
    );
    assert_eq!(d.state(), before);
}

/// A bad file given for a database that does not exist yet leaves no database behind.
#[test]
fn a_refused_import_creates_no_database() {
    let d = Dir::new();
    let bad = d.file("2020-08-26_18:00.csv", snapshot(1).replace("female", "f"));
    let (code, _, stderr) = d.import(&[&bad], "aw");
    assert_eq!(code, 2, "{stderr}");
    assert!(!d.db().exists());
}

/// The lock file next to the database, which a refused import must not leave behind.
fn lock_of(d: &Dir) -> PathBuf {
    d.dir.path().join("adskew.db.lock")
}

/// A file with many bad lines of every kind (counts, groups, dates, amounts, names, a line
/// with a field too many, an escape sequence): every line named at once with its column
/// and fix, the first 20 shown and the rest counted, no raw csv-crate text, no control
/// character echoed, and nothing stored.
#[test]
fn every_bad_line_is_listed_at_once_with_its_column_and_fix() {
    let d = Dir::new();
    let good =
        "\"DE - Germany - Hairdresser\",female,450,450,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26";
    let bad_lines = [
        // line 3: two bad cells on one line, both named.
        "\"DE - Germany - Hairdresser\",male,-3,1.5,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26",
        "\"DE - Germany - Hairdresser\",\u{1b}[2Jfmale,3,3,1,,,,1.27,2.8,,,,2020-08-01,2020-08-26",
        "\"DE - Germany - Legal Counsel\",male,3,3,1,,,,a lot,2.8,,,,2020-08-01,2020-08-26",
        "\"DE - Germany - Legal Counsel\",female,3,3,1,,,,1,2.8,,,,2020-08-01,26.08.2020",
        "\"DE - Germany - Legal Counsel\",unknown,3,3,1,,,,1,2.8,,,,2020-08-01,2020-08-26,extra",
    ];
    let mut text = format!("{HEADER}\n{good}\n");
    for l in bad_lines {
        text += l;
        text.push('\n');
    }
    // Twenty more bad lines: more than are shown.
    for i in 0..20 {
        text += &format!("\"Ad {i}\",female,{i}x,1,1,,,,1,2.8,,,,2020-08-01,2020-08-26\n");
    }
    let file = d.file("2020-08-26_19:00.csv", &text);
    let (code, stdout, stderr) = d.import(&[&file], "many");
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    for expected in [
        "2020-08-26_19:00.csv: line 3: Reach `-3` is negative; it must be a count (write a whole number from 0 to 1000000000000 (10^12), digits only) (spreadsheet column C)",
        "2020-08-26_19:00.csv: line 3: Impressions `1.5` is not a whole number; it must be a count (write a whole number from 0 to 1000000000000 (10^12), digits only) (spreadsheet column D)",
        "line 4: Gender `\\u{1b}[2Jfmale` is not one adskew knows; the values are female, male, unknown (spreadsheet column B)",
        "line 5: Amount Spent (EUR) `a lot` is not an amount (0 or more, like 2.33) (spreadsheet column I)",
        "line 6: Reporting Ends `26.08.2020` is not a date like 2020-08-01 (spreadsheet column O)",
        "line 7: has 16 fields but the header has 15; a value that contains `,` must be in double quotes",
        "line 8: Reach `0x` is not a number",
        "2020-08-26_19:00.csv: and 6 more problem(s) not shown; fix the lines above",
    ] {
        assert!(stderr.contains(expected), "expected `{expected}` in:\n{stderr}");
    }
    assert_eq!(
        stderr.matches("2020-08-26_19:00.csv: line ").count(),
        20,
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no raw escape: {stderr:?}");
    assert!(
        !stderr.contains("CSV error") && !stderr.contains("found record with"),
        "{stderr}"
    );
    assert!(!d.db().exists() && !lock_of(&d).exists(), "nothing stored");
}

/// Header spellings in any case (`Amount spent (eur)`, `ad set name`) and the separators
/// spreadsheets write (`;` with decimal commas, as European Excel does; tabs): read as the
/// comma-separated original, to the same analysis.
#[test]
fn any_header_case_and_separator_reads_as_the_original() {
    let original = Dir::new();
    let first = original.file("2020-08-26_18:00.csv", snapshot(2));
    assert_eq!(original.import(&[&first], "aw").0, 0);
    let expected = original.analyze("aw");
    let variants = [
        (
            "semicolons",
            snapshot(2)
                .replace("\"Amount Spent (EUR)\"", "\"amount spent (eur)\"")
                .replace("\"Ad Set Name\"", "\"ad set name\"")
                .lines()
                .map(semicolons)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "tabs",
            snapshot(2).replace(',', "\t").replace("1\t000", "1,000"),
        ),
    ];
    for (what, text) in variants {
        let d = Dir::new();
        let file = d.file("2020-08-26_18:00.csv", text);
        let (code, _, stderr) = d.import(&[&file], "aw");
        assert_eq!(code, 0, "{what}: {stderr}");
        let got = d.analyze("aw");
        assert_eq!(got["comparisons"], expected["comparisons"], "{what}");
    }
}

/// A CSV line with `;` between fields and decimal commas, as European Excel saves one.
fn semicolons(line: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            ',' if !quoted => out.push(';'),
            '.' if !quoted => out.push(','),
            c => out.push(c),
        }
    }
    out
}

/// A snapshot time later than any time zone's now (from the name, read as UTC, or from
/// the modification time) is refused before anything is stored, naming the file and the
/// fix; correct snapshots still import afterwards.
#[test]
fn a_snapshot_from_the_future_is_refused_and_blocks_nothing() {
    let d = Dir::new();
    let named = d.file("2099-01-01_12:00.csv", snapshot(2));
    let touched = d.file("export.csv", snapshot(2));
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&touched)
        .unwrap()
        .set_modified(future)
        .unwrap();
    let refused = |d: &Dir| {
        for (file, expected, fix) in [
            (&named, "2099-01-01_12:00.csv: its snapshot time 2099-01-01T12:00:00Z (from its file name) is in the future", "rename the file to the date and time the export was made"),
            (&touched, "export.csv: its snapshot time", "put the date and time the export was made in its name"),
        ] {
            let (code, stdout, stderr) = d.import(&[file], "aw");
            assert_eq!(code, 2, "{stderr}");
            assert!(stderr.contains(expected), "expected `{expected}` in: {stderr}");
            assert!(stderr.contains(fix), "the fix `{fix}` in: {stderr}");
            assert!(stdout.is_empty(), "{stdout}");
        }
    };
    // Into a new database: none is made, and no lock file either.
    refused(&d);
    assert!(!d.db().exists() && !lock_of(&d).exists(), "nothing stored");
    // Into an existing run: it is unchanged, and later correct snapshots still import.
    let seed = d.file("2020-08-20_12:00.csv", snapshot(1));
    assert_eq!(d.import(&[&seed], "aw").0, 0);
    let before = d.state();
    refused(&d);
    assert_eq!(d.state(), before, "nothing stored");
    let next = d.file("2020-08-26_18:00.csv", snapshot(2));
    let (code, _, stderr) = d.import(&[&next], "aw");
    assert_eq!(code, 0, "a correct snapshot still imports: {stderr}");
}
