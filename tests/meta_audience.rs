//! Custom audiences and ad images through the real Meta adapter, against the mock Graph API
//! on 127.0.0.1. What a researcher relies on: a long list arrives whole, in Meta's batch
//! and session shape; nothing but hashes leaves the machine; a bad file sends nothing; an
//! experiment that names the audience targets it; a local image is uploaded once and used
//! by its hash.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use adskew::clock::WallClock;
use adskew::digest::sha256_hex;
use adskew::experiment::load::load_with_env;
use adskew::mockapi::{self, clock::MockClock, Mock};
use adskew::platform::meta::adapter::{MetaConfig, MetaPlatform, Secret};
use adskew::platform::meta::audience::{PeopleFileError, UploadError};
use adskew::platform::ObjectId;
use adskew::scheduler;
use adskew::store::Store;
use serde_json::{json, Value};

fn config(base_url: String) -> MetaConfig {
    let mut c = MetaConfig::new(&base_url, "act_1000", "2000", Secret::new("test-token"));
    c.max_retries = 12;
    c.backoff = Duration::from_millis(1);
    c.page_size = 50;
    c.max_calls_per_second = 10_000;
    // image_variants.toml targets France: Meta requires DSA beneficiary and payor.
    c.dsa = Some(adskew::platform::meta::adapter::Dsa {
        beneficiary: "Example University".into(),
        payor: "Example University".into(),
    });
    c
}

async fn mock_and_meta(faults: mockapi::faults::Faults) -> (Arc<Mock>, MetaPlatform, String) {
    let mock = Mock::with_faults(
        adskew::platform::sim::SimTruth::defaults(),
        scheduler::start_time_now(),
        faults,
    );
    let addr = mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let meta = MetaPlatform::new(config(base.clone()), Arc::new(WallClock)).unwrap();
    (mock, meta, base)
}

/// A list of `n` people: email, phone, country. Every 1,000th phone is garbage (sent as "",
/// the rest of the line still counts).
fn people_csv(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("people.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "Email,Phone,Country").unwrap();
    for i in 0..n {
        let phone = if i % 1000 == 999 {
            "n/a".to_string()
        } else {
            format!("+1 650 {i:06}")
        };
        writeln!(f, "Person.{i}@Example.org,{phone},us").unwrap();
    }
    f.flush().unwrap();
    path
}

#[tokio::test]
async fn a_long_list_arrives_whole_in_one_session_of_three_batches() {
    let (mock, meta, _) = mock_and_meta(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = people_csv(dir.path(), 25_000);

    let audience = meta
        .create_custom_audience("test list", "generated people")
        .await
        .unwrap();
    // A batch size above Meta's ceiling is capped at 10,000.
    let report = meta.upload_members(&audience, &csv, 50_000).await.unwrap();

    assert_eq!(report.batches, 3);
    assert_eq!(report.num_received, 25_000);
    assert_eq!(report.num_invalid_entries, 0);
    assert_eq!(report.cells_blanked, 25, "the garbage phones");
    assert_eq!(report.schema, ["EMAIL", "PHONE", "COUNTRY"]);

    let seen = mock.audience(&audience.0).unwrap();
    assert_eq!(seen.customer_file_source, "USER_PROVIDED_ONLY");
    let shape: Vec<(u64, u64, bool, Option<u64>)> = seen
        .batches
        .iter()
        .map(|b| {
            (
                b.batch_seq,
                b.num_received,
                b.last_batch_flag,
                b.estimated_num_total,
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (1, 10_000, false, Some(25_000)),
            (2, 10_000, false, Some(25_000)),
            (3, 5_000, true, Some(25_000)),
        ]
    );
    assert!(
        seen.batches
            .iter()
            .all(|b| b.session_id == report.session_id),
        "one session"
    );
    assert_eq!(seen.members.len(), 25_000, "every person arrived once");

    // Only hashes arrived: the mock saw no value that is not "" or a SHA-256 digest, and
    // the digest of a normalised address from the file is among what it received.
    assert_eq!(mock.non_hash_values_received(), 0);
    let emails = &seen.values["EMAIL"];
    assert!(emails.contains(&sha256_hex("person.7@example.org")));
    assert!(!emails.iter().any(|v| v.contains('@')));
    assert_eq!(seen.values["PHONE"].len(), 25_000 - 25);
    assert_eq!(seen.values["COUNTRY"].len(), 1, "one country, hashed once");

    // Meta reports the size as bounds around the matched count.
    let (lo, hi) = meta.audience_size(&audience).await.unwrap();
    assert!(lo <= 25_000 && 25_000 <= hi && lo > 0, "{lo}..{hi}");
}

/// Lines whose values normalise to nothing are not sent (and are named by line number);
/// single bad cells go as "", which Meta documents as "no value".
#[tokio::test]
async fn garbage_is_blanked_or_skipped_never_sent_raw() {
    let (mock, meta, _) = mock_and_meta(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("messy.csv");
    std::fs::write(
        &csv,
        "email,phone,gender\n\
         ann@example.org,+44 20 7946 0018,F\n\
         not an email,12,unknown\n\
         bob@example.org,call me,M\n\
         ,,\n\
         ,+1 650 555 0101,\n",
    )
    .unwrap();
    let audience = meta.create_custom_audience("messy", "").await.unwrap();
    let report = meta.upload_members(&audience, &csv, 10_000).await.unwrap();

    assert_eq!(report.rows_read, 5);
    assert_eq!(report.rows_skipped, 2);
    assert_eq!(report.skipped_lines, [3, 5]);
    assert_eq!(report.num_received, 3);
    assert_eq!(report.num_invalid_entries, 0);
    let seen = mock.audience(&audience.0).unwrap();
    let bob = vec![
        sha256_hex("bob@example.org"),
        String::new(),
        sha256_hex("m"),
    ];
    assert!(seen.members.contains(&bob), "bob's bad phone went as \"\"");
    assert_eq!(mock.non_hash_values_received(), 0);
}

/// A file that cannot be uploaded fails before the first request: no audience, no people.
#[tokio::test]
async fn a_bad_file_sends_nothing() {
    let (mock, meta, _) = mock_and_meta(Default::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    let mut text = "email,shoe_size\n".to_string();
    for i in 0..100 {
        text.push_str(&format!("p{i}@example.org,42\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let err = meta
        .upload_members(&ObjectId("1".into()), &csv, 10_000)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, UploadError::File(PeopleFileError::UnknownColumn { name, position: 2, .. }) if name == "shoe_size"),
        "{err}"
    );
    assert!(err.to_string().contains("Accepted columns: email, phone"));

    // A line with a stray field, far down the file: found before anything is sent.
    let csv = people_csv(dir.path(), 3_000);
    let mut f = std::fs::OpenOptions::new().append(true).open(&csv).unwrap();
    writeln!(f, "late@example.org,+1 650 555 0199,us,extra").unwrap();
    let err = meta
        .upload_members(&ObjectId("1".into()), &csv, 1_000)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3002") && !err.contains("late@"), "{err}");

    assert_eq!(mock.request_count(), 0, "no request reached the server");
}

/// Throttling and transient errors on a third of requests: retries deliver every person
/// exactly once.
#[tokio::test]
async fn retries_neither_lose_nor_double_people() {
    let faults = mockapi::faults::Faults {
        seed: 11,
        throttle: 0.15,
        transient: 0.1,
        gateway: 0.08,
        ..Default::default()
    };
    let (mock, meta, _) = mock_and_meta(faults).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = people_csv(dir.path(), 2_500);
    let audience = meta.create_custom_audience("flaky", "").await.unwrap();
    let report = meta.upload_members(&audience, &csv, 250).await.unwrap();
    assert_eq!((report.batches, report.num_received), (10, 2_500));
    let seen = mock.audience(&audience.0).unwrap();
    assert_eq!(seen.num_received, 2_500, "nothing counted twice");
    assert_eq!(
        seen.batches.iter().map(|b| b.batch_seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert!(mock.fault_count() > 0, "faults were injected");
}

async fn post(base: &str, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let mut form: Vec<(&str, String)> = form.to_vec();
    form.push(("access_token", "t".into()));
    let r = reqwest::Client::new()
        .post(format!("{base}/v27.0/{path}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The mock refuses what Meta documents as refused, so the adapter tests above can fail.
#[tokio::test]
async fn the_mock_refuses_what_meta_refuses() {
    let (mock, meta, base) = mock_and_meta(Default::default()).await;
    let audience = meta.create_custom_audience("x", "").await.unwrap().0;
    let hash = sha256_hex("a@example.org");

    let (status, body) = post(
        &base,
        "act_1000/customaudiences",
        &[
            ("name", "x".into()),
            ("subtype", "CUSTOM".into()),
            ("customer_file_source", "FRIENDS".into()),
        ],
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(100)));

    let too_many = json!({"schema": ["EMAIL"], "data": vec![vec![hash.clone()]; 10_001]});
    let (status, body) = post(
        &base,
        &format!("{audience}/users"),
        &[("payload", too_many.to_string())],
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(100)));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 10000"));

    let (_, body) = post(
        &base,
        &format!("{audience}/users"),
        &[(
            "payload",
            json!({"schema": ["EMAIL", "SHOE"], "data": [[hash, "x"]]}).to_string(),
        )],
    )
    .await;
    assert_eq!(body["error"]["code"], 100);

    // A raw address is received but counted invalid, and flagged for tests.
    let (status, body) = post(
        &base,
        &format!("{audience}/users"),
        &[(
            "payload",
            json!({"schema": ["EMAIL"], "data": [["raw@example.org"], [hash]]}).to_string(),
        )],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["num_received"].as_u64(),
            body["num_invalid_entries"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(mock.non_hash_values_received(), 1);
    let seen = mock.audience(&audience).unwrap();
    assert!(
        !seen.values["EMAIL"].contains("raw@example.org"),
        "raw values are not kept"
    );

    // A creative may not use an image the account does not have.
    let story = json!({"page_id": "2000", "link_data": {"link": "https://example.org", "image_hash": "0123456789abcdef0123456789abcdef"}});
    let (_, body) = post(
        &base,
        "act_1000/adcreatives",
        &[
            ("name", "c".into()),
            ("object_story_spec", story.to_string()),
        ],
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
}

/// An experiment that names an uploaded audience targets it in every ad set; an ad whose
/// image is a file next to the experiment has it uploaded once and refers to it by hash.
#[tokio::test]
async fn an_experiment_targets_its_audience_and_uses_uploaded_images() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/image_variants.toml");
    let mut exp = load_with_env(&path, Vec::new()).unwrap().experiment;
    let start = scheduler::start_time(&exp, chrono::Utc::now());
    let mock = Mock::new(adskew::platform::sim::SimTruth::of(&exp).unwrap(), start);
    // The account holds the experiment's currency (a mismatch is refused before launch).
    mock.set_currency(&exp.currency);
    let addr = mockapi::spawn(mock.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{addr}");
    let clock = Arc::new(MockClock::connect(&base).await.unwrap());
    let meta = MetaPlatform::new(config(base), clock.clone()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let csv = people_csv(dir.path(), 300);
    let audience = meta.create_custom_audience("people", "").await.unwrap();
    meta.upload_members(&audience, &csv, 10_000).await.unwrap();

    // Two ads share one image file, given relative to the experiment file (which is not in
    // the working directory), one keeps its URL.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    std::fs::write(dir.path().join("truck.png"), png).unwrap();
    exp.source.path = dir.path().join("experiment.toml");
    exp.audience.custom_audience = Some(audience.0.clone());
    exp.ads[1].image = Some("truck.png".into());
    exp.ads[2].image = Some("truck.png".into());
    let url_ad = exp.ads[3].key.clone();
    assert!(exp.ads[3].image.as_deref().unwrap().starts_with("https://"));

    let mut store = Store::open_in_memory().unwrap();
    let outcome = scheduler::run(&exp, &meta, clock.as_ref(), &mut store, &())
        .await
        .unwrap();

    let targeted = mock.ad_set_custom_audiences();
    assert_eq!(targeted.len(), exp.ads.len(), "every ad set");
    assert!(targeted
        .values()
        .all(|ids| ids == &vec![audience.0.clone()]));

    assert_eq!(mock.image_uploads(), 1, "one file, uploaded once");
    let ads = store.ads(outcome.experiment_id).unwrap();
    let hash_of = |key: &str| {
        let ad = ads.iter().find(|a| a.ad_key == key).unwrap();
        mock.creative_image_hash(&ad.creative_id)
    };
    let h1 = hash_of(&exp.ads[1].key).expect("uses the uploaded image");
    assert_eq!(hash_of(&exp.ads[2].key), Some(h1.clone()));
    assert_eq!(h1.len(), 32);
    assert_eq!(hash_of(&url_ad), None, "a URL stays a picture to fetch");
}

mod common;

use common::mock::{adskew as adskew_on, start_mock as start_mock_server};

/// The command a researcher runs: the list reaches the (mock) platform, the id to put in
/// the experiment is printed, the upload is on record, and the database holds no address
/// from the file. A bad file exits 2 and writes nothing.
#[test]
fn audience_upload_from_the_command_line() {
    let mock = start_mock_server();
    let tmp = tempfile::tempdir().unwrap();
    let csv = people_csv(tmp.path(), 1_200);
    let db = tmp.path().join("a.db");

    let out = adskew_on(&mock.1)
        .current_dir(tmp.path())
        .args(["audience", "upload"])
        .arg(&csv)
        .args(["--name", "CLI list", "--batch-size", "500", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("in 3 batch(es)") && out.contains("Meta received 1200, 0 invalid"),
        "{out}"
    );
    let id = out
        .split("custom_audience = \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the id to put in the experiment")
        .to_string();
    assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");
    assert!(!out.contains("@example.org"), "{out}");

    // The people reached the mock server: its size estimate brackets them.
    let url = format!(
        "{}/v27.0/{id}?fields=approximate_count_lower_bound,approximate_count_upper_bound&access_token=t",
        mock.1
    );
    let size: Value = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() });
    let (lo, hi) = (
        size["approximate_count_lower_bound"].as_u64().unwrap(),
        size["approximate_count_upper_bound"].as_u64().unwrap(),
    );
    assert!(lo <= 1_200 && 1_200 <= hi && lo > 0, "{size}");

    // On record, by the file's hash; no address in the database file.
    let store = Store::open_existing(&db).unwrap();
    let uploads = store.audience_uploads().unwrap();
    assert_eq!(uploads.len(), 1);
    let u = &uploads[0];
    assert_eq!(
        (
            u.audience_id.as_str(),
            u.state.as_str(),
            u.batches,
            u.num_received
        ),
        (id.as_str(), "complete", 3, 1_200)
    );
    assert_eq!(
        u.file_sha256,
        adskew::digest::sha256_hex(std::fs::read(&csv).unwrap())
    );
    drop(store);
    for file in [db.clone(), tmp.path().join("a.db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            assert!(
                !text.contains("example.org") && !text.contains("person.1"),
                "{} holds data from the people file",
                file.display()
            );
        }
    }

    // A bad file: exit 2, the column and the fix named, nothing written.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "email,shoe_size\nx@example.org,42\n").unwrap();
    let db2 = tmp.path().join("b.db");
    let err = adskew_on(&mock.1)
        .args(["audience", "upload"])
        .arg(&bad)
        .args(["--name", "bad", "--db"])
        .arg(&db2)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("bad.csv") && err.contains("`shoe_size`") && err.contains("Accepted columns"),
        "{err}"
    );
    assert!(!db2.exists(), "nothing written for a bad file");

    let missing = adskew_on(&mock.1)
        .args(["audience", "upload", "nowhere.csv", "--name", "x", "--db"])
        .arg(&db2)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(missing).unwrap().contains("nowhere.csv"));

    // An experiment that names its audience by something other than a Meta id is caught by
    // the dry run, before any money: Meta would refuse the ad sets.
    let dry = adskew_on(&mock.1)
        .env("ADSKEW_PLATFORM", "meta")
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml"))
        .arg("--db")
        .arg(&db2)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let dry = String::from_utf8(dry).unwrap();
    assert!(
        dry.contains("\"nc-voters-gender-balanced\" is not a Meta audience id")
            && dry.contains("adskew audience upload"),
        "{dry}"
    );
    assert!(!db2.exists());

    // The help teaches the file format and where the id goes.
    let help = common::adskew()
        .args(["audience", "upload", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    assert!(
        help.contains("SHA-256") && help.contains("custom_audience") && help.contains("first_name"),
        "{help}"
    );
}

/// What is not a list of people at all (a device such as `/dev/zero`, a folder, a file over
/// the size adskew reads) and a header with control characters: exit 2 before anything,
/// the file and the fix named, no escape sequence echoed, no database and no lock file.
#[test]
fn what_is_not_a_people_file_is_refused_before_anything_is_read_whole() {
    let mock = start_mock_server();
    let tmp = tempfile::tempdir().unwrap();
    let huge = tmp.path().join("huge.csv");
    // Sparse: one byte over the limit costs no disk.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(adskew::platform::meta::audience::MAX_PEOPLE_FILE_BYTES + 1)
        .unwrap();
    let escape = tmp.path().join("escape.csv");
    std::fs::write(&escape, "email,\u{1b}[31mshoe_size\nx@example.org,42\n").unwrap();
    let folder = tmp.path().join("folder.csv");
    std::fs::create_dir(&folder).unwrap();
    let cases: [(&Path, &str); 4] = [
        (Path::new("/dev/zero"), "/dev/zero is a device, not a file of people: give the path of a CSV file"),
        (&folder, "folder.csv is a folder, not a file of people: give the path of a CSV file"),
        (&huge, "huge.csv is larger than the 1024 MiB adskew reads for an audience: split it into files under that size"),
        (&escape, "`\\u{1b}[31mshoe_size` is not a customer-list field"),
    ];
    let db = tmp.path().join("a.db");
    for (file, expected) in cases {
        let out = adskew_on(&mock.1)
            .args(["audience", "upload"])
            .arg(file)
            .args(["--name", "x", "--db"])
            .arg(&db)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
        assert!(err.contains(expected), "expected `{expected}` in: {err}");
        assert!(
            !err.contains('\u{1b}'),
            "no raw escape reaches the terminal: {err:?}"
        );
        assert!(!db.exists(), "{}: no database", file.display());
        assert!(
            !tmp.path().join("a.db.lock").exists(),
            "{}: no lock",
            file.display()
        );
    }
}
