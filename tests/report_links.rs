//! `report.md` and `report.html` link only files that exist (issue 17, requirement 5): for
//! every combination of `report --format` that writes one of them, each link of each
//! written page names a file in the report's folder.

mod common;

use std::path::Path;

use adskew::analysis;
use adskew::report::{self, Format, Report};
use adskew::store::Store;

/// The relative targets a page links: Markdown `](target)`, HTML `href=`/`src=`.
fn links(page: &str) -> Vec<String> {
    let mut out: Vec<String> = page
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(t, _)| t.to_string()))
        .collect();
    for attr in ["href=\"", "src=\""] {
        out.extend(
            page.split(attr)
                .skip(1)
                .filter_map(|rest| rest.split_once('"').map(|(t, _)| t.to_string())),
        );
    }
    // In-page anchors and inline data are not files.
    out.retain(|t| !t.starts_with('#') && !t.starts_with("data:"));
    out
}

#[test]
fn every_link_of_every_format_combination_names_a_written_file() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let store = Store::open_existing(&tmp.path().join("a.db")).unwrap();
    let record = store.find_experiment("1").unwrap();
    let inputs = adskew::report_inputs(&store, &record).unwrap();
    let analysis = analysis::analyze(&inputs);
    let report = Report::load(&store, inputs, analysis).unwrap();
    let all = [
        Format::Html,
        Format::Md,
        Format::Tex,
        Format::Csv,
        Format::Json,
        Format::Svg,
        Format::Png,
        Format::Pdf,
    ];
    let mut checked = (0, 0);
    for mask in 1u32..(1 << all.len()) {
        let formats: Vec<Format> = (0..all.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| all[i])
            .collect();
        if !formats.contains(&Format::Md) && !formats.contains(&Format::Html) {
            continue;
        }
        let out = tmp.path().join(format!("out-{mask}"));
        let written = report::write(&report, &out, &formats).unwrap();
        let mut figures_linked = 0;
        for page in ["report.md", "report.html"] {
            let Ok(text) = std::fs::read_to_string(written.dir.join(page)) else {
                continue;
            };
            for target in links(&text) {
                assert!(
                    !target.contains("://") && written.dir.join(&target).is_file(),
                    "--format {formats:?}: {page} links {target}, which was not written"
                );
                figures_linked += 1;
                checked.1 += 1;
            }
        }
        // Links are there when figures are: the check above is not met by linking nothing.
        let draws = [Format::Svg, Format::Png, Format::Pdf]
            .iter()
            .any(|f| formats.contains(f));
        if formats.contains(&Format::Md) {
            assert_eq!(figures_linked > 0, draws, "--format {formats:?}");
        }
        checked.0 += 1;
        std::fs::remove_dir_all(&out).unwrap();
    }
    assert_eq!(checked.0, 192, "every combination with md or html");
    assert!(checked.1 > 0);
}

#[test]
fn a_pdf_and_markdown_report_links_its_pdfs() {
    let tmp = tempfile::tempdir().unwrap();
    common::run_campaign("pilot_two_ads.toml", tmp.path());
    let out = tmp.path().join("paper");
    common::adskew()
        .args(["report", "1", "--format", "pdf,md", "--db"])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let dir = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let targets = links(&md);
    assert!(!targets.is_empty(), "{md}");
    assert!(targets.iter().all(|t| t.ends_with(".pdf")), "{targets:?}");
    assert!(!md.contains(".svg"), "{md}");
    assert!(targets.iter().all(|t| Path::new(&dir).join(t).is_file()));
}
