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
