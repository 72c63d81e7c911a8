//! `report.html` opens in a real browser (headless Chromium) without errors, fetches
//! nothing, and shows every chart (issue #7). Chromium comes from Debian's `chromium`
//! package, which `.ci/run` installs; set `ADSKEW_CHROMIUM` to use another binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::run_campaign;

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("ADSKEW_CHROMIUM") {
        return PathBuf::from(p);
    }
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!(
        "this test needs headless Chromium: `apt-get install chromium` (bash .ci/run installs it), \
         or set ADSKEW_CHROMIUM to a Chromium binary"
    );
}

/// Loads `page` in headless Chromium and returns (the DOM after load, the browser's log).
fn load_in_chromium(page: &Path, profile: &Path) -> (String, String) {
    // The flags that keep Chromium from reaching for the network at start (this machine has
    // none) and from needing a display or a sandbox as root.
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn body_attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let body = &dom[dom.find("<body")?..];
    let body = &body[..body.find('>')?];
    let start = body.find(&format!("{name}=\""))? + name.len() + 2;
    Some(&body[start..start + body[start..].find('"')?])
}

#[test]
fn report_html_loads_in_chromium_without_errors_and_shows_every_chart() {
    let tmp = tempfile::tempdir().unwrap();
    for (campaign, name) in [
        ("imana2021_paired_jobs.toml", "imana2021-paired-jobs"),
        ("mirrored_race.toml", "mirrored-race"),
    ] {
        let dir = run_campaign(campaign, tmp.path());
        let page = dir.join("report.html");
        let html = std::fs::read_to_string(&page).unwrap();

        // Self-contained: nothing to fetch (the SVG namespace is a name, not a request).
        for needle in ["<link", "src=\"http", "href=\"http", "@import"] {
            assert!(!html.contains(needle), "{name}: report.html has `{needle}`");
        }
        // The only URLs are the charts' fonts, inside the file as data.
        assert_eq!(
            html.matches("url(").count(),
            html.matches("url(data:font/ttf;base64,").count(),
            "{name}: report.html has a `url(` that is not the data of a font"
        );
        let figures = html.matches("<figure class=\"chart ").count();
        assert!(figures > 0, "{name}: no charts in report.html");
        // Every table of the report and the provenance are there.
        for section in [
            "id=\"summary\"",
            "id=\"design\"",
            "id=\"results\"",
            "id=\"tables\"",
            "id=\"provenance\"",
        ] {
            assert!(html.contains(section), "{name}: no {section}");
        }
        assert!(html.contains("id=\"table-tests\"") && html.contains("id=\"table-ads\""));
        // Ad keys in the sentences are set as code, not left as Markdown backticks.
        assert!(html.contains("<code>") && !html.contains("vs `"), "{name}");

        let (dom, log) = load_in_chromium(&page, &tmp.path().join(format!("profile-{name}")));
        assert_eq!(
            body_attribute(&dom, "data-charts-rendered"),
            Some(figures.to_string().as_str()),
            "{name}: not every chart rendered; errors: {:?}",
            body_attribute(&dom, "data-errors")
        );
        assert_eq!(body_attribute(&dom, "data-errors"), Some(""), "{name}");
        // The page's console stays empty: no script error, no blocked request.
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        assert!(console.is_empty(), "{name}: console messages: {console:#?}");
    }
}

#[test]
fn the_browser_check_catches_a_broken_page() {
    // The same check on a page with a script error and a blocked fetch must fail: the test
    // above can tell a working report from a broken one.
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\"></head>\
         <body><img src=\"https://example.org/x.png\"><script>undefinedFunction();</script></body></html>",
    )
    .unwrap();
    let (_, log) = load_in_chromium(&page, &tmp.path().join("profile"));
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.len() >= 2, "{log}");
}
