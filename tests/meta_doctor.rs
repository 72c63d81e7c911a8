//! `adskew doctor` against `adskew mock-server`: a healthy account passes every check with
//! one line each, and each thing that would block or endanger a launch (an invalid or
//! short-lived token, missing permissions, a disabled account, no payment method, a spending
//! limit below the experiment's cap, an unknown page, EU targeting without DSA fields, a
//! development-tier app) is named with its fix and fails the command.

mod common;
use std::path::Path;

use common::mock::{adskew, example, start_mock_with};

/// `adskew doctor [FILE]` against a mock whose `[account]` is `account` (TOML lines).
fn doctor(account: &str, file: Option<&Path>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let faults = dir.path().join("faults.toml");
    std::fs::write(&faults, format!("[account]\n{account}\n")).unwrap();
    let mock = start_mock_with(Some(&faults));
    let mut cmd = adskew(&mock.1);
    cmd.current_dir(dir.path()).arg("doctor");
    if let Some(f) = file {
        cmd.arg(f);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn line<'a>(text: &'a str, check: &str) -> &'a str {
    text.lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{text}"))
}

#[test]
fn a_healthy_account_passes_every_check() {
    let (ok, text) = doctor("", Some(&example()));
    assert!(ok, "{text}");
    for check in [
        "token",
        "ad account",
        "currency",
        "payment method",
        "spending limit",
        "page",
        "DSA",
        "API version",
        "access tier",
    ] {
        assert!(line(&text, check).starts_with("ok "), "{check}: {text}");
    }
}

#[test]
fn each_danger_is_named_with_its_fix_and_fails() {
    let cases: &[(&str, &str, &str)] = &[
        ("token_valid = false", "token", "System users"),
        ("token_scopes = [\"ads_read\"]", "token", "ads_management"),
        (
            "token_expires_in_days = 3",
            "token",
            "before the run's last collection",
        ),
        (
            "account_status = 2\ndisable_reason = 1",
            "ad account",
            "DISABLED",
        ),
        ("funding = false", "payment method", "Billing"),
        (
            "spend_limit = 20000\namount_spent = 5000",
            "spending limit",
            "below the experiment's cap",
        ),
        ("pages = [\"3000\"]", "page", "meta.page_id"),
    ];
    for (account, check, words) in cases {
        let (ok, text) = doctor(account, Some(&example()));
        assert!(!ok, "{account}: the command must fail\n{text}");
        let l = line(&text, check);
        assert!(l.starts_with("FAIL") && l.contains(words), "{account}: {l}");
    }
    // Ads reaching France need the DSA beneficiary and payor; the account's suggestion is
    // offered.
    let eu = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/image_variants.toml");
    let (ok, text) = doctor("dsa_recommendations = [\"Example University\"]", Some(&eu));
    assert!(!ok);
    let l = line(&text, "DSA");
    assert!(
        l.starts_with("FAIL") && l.contains("FR") && l.contains("Example University"),
        "{l}"
    );

    // A development-tier app is a warning, not a failure.
    let (ok, text) = doctor("access_tier = \"development_access\"", None);
    assert!(ok, "{text}");
    assert!(line(&text, "access tier").starts_with("warn"), "{text}");
}

/// `status` warns of an unfinished Meta run whose last collection falls after Meta retires
/// the API version the settings name.
#[test]
fn status_warns_when_a_running_study_outlives_its_api_version() {
    use adskew::clock::SimClock;
    use adskew::experiment::load::load_with_env;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let exp = load_with_env(
        &example(),
        vec![
            ("ADSKEW_PLATFORM".into(), "meta".into()),
            (
                "ADSKEW_SCHEDULE__START".into(),
                "2027-02-20T00:00:00Z".into(),
            ),
        ],
    )
    .unwrap()
    .experiment;
    let clock = SimClock::new(
        chrono::DateTime::parse_from_rfc3339("2027-02-10T00:00:00Z")
            .unwrap()
            .into(),
    );
    let mut store = adskew::store::Store::open(&db).unwrap();
    let id = adskew::scheduler::record(&exp, &clock, &mut store).unwrap();
    drop(store);
    let status = |version: &str| {
        let out = common::adskew()
            .current_dir(dir.path())
            .env("HOME", "/nonexistent")
            .env("ADSKEW_META__API_VERSION", version)
            .args(["status", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let old = status("v25.0");
    assert!(
        old.contains(&format!("run {id}'s last collection")) && old.contains("2027-02-23"),
        "{old}"
    );
    assert!(!status("v27.0").contains("WARNING: run"));
}
