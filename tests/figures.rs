//! Figures a journal takes as they come (issue 17), checked in the SVGs of runs of the
//! bundled examples: display labels everywhere, no title inside a paper-style figure, one
//! colour per ad across figures, the share axis (auto, full, given), the width, intervals
//! drawn as thin whiskers with caps of a fixed size, over-time lines that stop at the
//! schedule's end, value labels clear of the eligible line, and the `report` flags'
//! refusals.

mod common;
use common::{adskew, stderr_of};

use std::path::{Path, PathBuf};

/// `campaigns/<file>` with each `(from, to)` replaced once (panics if `from` is missing).
fn campaign(file: &str, edits: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("campaigns")
        .join(file);
    let mut text = std::fs::read_to_string(path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` not in {file}");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Runs the experiment `text` into `dir` (database `a.db`, reports under `out/`).
fn run(text: &str, dir: &Path) {
    let file = dir.join("e.toml");
    std::fs::write(&file, text).unwrap();
    adskew()
        .args(["run", "--quiet"])
        .arg(&file)
        .arg("--db")
        .arg(dir.join("a.db"))
        .arg("--out")
        .arg(dir.join("out"))
        .assert()
        .success();
}

/// `adskew report NAME` again with `flags`, into `dir/<out>`; the report folder.
fn report(dir: &Path, name: &str, out: &str, flags: &[&str]) -> PathBuf {
    adskew()
        .args(["report", name, "--db"])
        .arg(dir.join("a.db"))
        .arg("--out")
        .arg(dir.join(out))
        .args(flags)
        .assert()
        .success();
    dir.join(out).join(name)
}

fn svg(dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{stem}.svg")))
        .unwrap_or_else(|e| panic!("{stem}.svg: {e}"))
}

/// Every `<text>` element: its opening line and its content.
fn texts(svg: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = svg.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("<text") {
            out.push((line.to_string(), lines.next().unwrap_or("").to_string()));
        }
    }
    out
}

fn has_text(svg: &str, wanted: &str) -> bool {
    texts(svg).iter().any(|(_, t)| t == wanted)
}

/// A numeric attribute of an element line.
fn attr(line: &str, name: &str) -> f64 {
    let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let rest = &line[start..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

fn text_attr(line: &str, name: &str) -> String {
    let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let rest = &line[start..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The points of every `<polyline class="class"`.
fn polylines(svg: &str, class: &str) -> Vec<Vec<(f64, f64)>> {
    svg.lines()
        .filter(|l| l.starts_with(&format!("<polyline class=\"{class}\"")))
        .map(|l| {
            text_attr(l, "points")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// Every `<circle class="point"`: (cx, cy, fill).
fn points(svg: &str) -> Vec<(f64, f64, String)> {
    svg.lines()
        .filter(|l| l.starts_with("<circle class=\"point\""))
        .map(|l| (attr(l, "cx"), attr(l, "cy"), text_attr(l, "fill")))
        .collect()
}

const LABELLED: &[(&str, &str)] = &[
    (
        "key = \"instacart_shopper\"",
        "key = \"instacart_shopper\"\nlabel = \"Instacart shopper\"",
    ),
    (
        "key = \"dominos_driver\"",
        "key = \"dominos_driver\"\nlabel = \"Domino's driver\"",
    ),
    (
        "key = \"delivery-driver\"",
        "key = \"delivery-driver\"\nlabel = \"Delivery drivers\"",
    ),
    (
        "[collect]",
        "[figures]\ngroups = { female = \"women (self-reported)\" }\n\n[collect]",
    ),
];

#[test]
fn labels_name_ads_comparisons_and_groups_in_every_figure_caption_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    run(
        &campaign("imana2021_paired_jobs.toml", LABELLED),
        tmp.path(),
    );
    let dir = tmp.path().join("out/imana2021-paired-jobs");
    for stem in [
        "delivery-driver-gender-female",
        "delivery-driver-paired-female",
        "delivery-driver-over-time-gender-female",
        "composition-gender",
        "cost-gender",
    ] {
        let s = svg(&dir, stem);
        assert!(has_text(&s, "Instacart shopper"), "{stem}");
        assert!(
            !texts(&s)
                .iter()
                .any(|(_, t)| t.contains("instacart_shopper")),
            "{stem}: no key where a label is given"
        );
    }
    let legend = svg(&dir, "composition-gender");
    assert!(has_text(&legend, "women (self-reported)"));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("comparison Delivery drivers"),
        "captions name the label"
    );
    assert!(md.contains("The share of people reached who were women (self-reported)"));
    assert!(md.contains("### Comparison Delivery drivers"));
    assert!(
        md.contains("for Instacart shopper vs"),
        "the paired test in words"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Delivery drivers: share of women (self-reported), paired"));
    assert!(html.contains("<h3>Comparison Delivery drivers</h3>"));
    // Tables show labels on the page; the CSV keeps the keys (they join with results.json).
    let tables = dir.join("tables");
    let read = |f: &str| std::fs::read_to_string(tables.join(f)).unwrap();
    for f in ["ads.md", "ads.tex", "shares-delivery-driver-gender.md"] {
        assert!(read(f).contains("Instacart shopper"), "{f}");
        assert!(!read(f).contains("instacart\\_shopper"), "{f}");
    }
    assert!(read("tests.md").contains("Delivery drivers"));
    assert!(read("shares-delivery-driver-gender.md").contains("women (self-reported)"));
    let csv = read("ads.csv");
    assert!(csv.contains("instacart_shopper") && !csv.contains("Instacart shopper"));
}

#[test]
fn paper_style_draws_no_title_the_caption_carries_it_and_screen_style_draws_it() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let paper = tmp.path().join("out/imana2021-paired-jobs");
    let title = "delivery-driver: share of women, paired";
    let s = svg(&paper, "delivery-driver-paired-female");
    assert!(!has_text(&s, title), "no title inside a paper figure");
    let md = std::fs::read_to_string(paper.join("report.md")).unwrap();
    assert!(md.contains(&format!(". {title}.** The share")), "{md}");
    let screen = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "screen",
        &["--style", "screen"],
    );
    assert!(has_text(
        &svg(&screen, "delivery-driver-paired-female"),
        title
    ));
}

#[test]
fn an_ad_keeps_its_colour_in_every_figure_and_no_group_takes_it() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let dir = tmp.path().join("out/imana2021-paired-jobs");
    // The dot plot of all ads: each label's row holds its ad's point.
    let dot = svg(&dir, "all-ads-gender-female");
    let colour_in_dot = |ad: &str| {
        let (line, _) = texts(&dot).into_iter().find(|(_, t)| t == ad).unwrap();
        let y = attr(&line, "y");
        points(&dot)
            .into_iter()
            .min_by(|a, b| (a.1 - y).abs().total_cmp(&(b.1 - y).abs()))
            .unwrap()
            .2
    };
    // The paired plot: each ad's column holds its point.
    let paired = svg(&dir, "delivery-driver-paired-female");
    let colour_in_paired = |ad: &str| {
        let (line, _) = texts(&paired).into_iter().find(|(_, t)| t == ad).unwrap();
        let x = attr(&line, "x");
        points(&paired)
            .into_iter()
            .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
            .unwrap()
            .2
    };
    let over_time = svg(&dir, "delivery-driver-over-time-gender-female");
    let lines: Vec<String> = over_time
        .lines()
        .filter(|l| l.starts_with("<polyline class=\"line\""))
        .map(|l| text_attr(l, "stroke"))
        .collect();
    let mut seen = Vec::new();
    for (i, ad) in ["dominos_driver", "instacart_shopper"].iter().enumerate() {
        let c = colour_in_dot(ad);
        assert_eq!(c, colour_in_paired(ad), "{ad}: dot and paired");
        assert_eq!(c, lines[i], "{ad}: dot and over-time");
        seen.push(c);
    }
    assert_ne!(seen[0], seen[1], "two ads, two colours");
    // Women and men (the composition's colours) are no ad's colour.
    let composition = svg(&dir, "composition-gender");
    for bar in composition
        .lines()
        .filter(|l| l.starts_with("<rect class=\"bar\""))
    {
        let fill = text_attr(bar, "fill");
        for ad in [
            "dominos_driver",
            "instacart_shopper",
            "nvidia_swe",
            "netflix_swe",
        ] {
            assert_ne!(fill, colour_in_dot(ad), "{ad}");
        }
    }
}

#[test]
fn intervals_are_thin_whiskers_with_caps_of_a_fixed_size_under_the_point() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let dir = tmp.path().join("out/imana2021-paired-jobs");
    let s = svg(&dir, "all-ads-gender-female");
    let ci = polylines(&s, "ci");
    assert_eq!(ci.len(), 3 * 4);
    for chunk in ci.chunks(3) {
        let (whisker, caps) = (&chunk[0], &chunk[1..]);
        // The whisker runs along x (the share), from the lower to the upper bound.
        assert!(
            whisker[1].0 > whisker[0].0,
            "a whisker of some length: {whisker:?}"
        );
        for cap in caps {
            // Across the whisker, 6 units long whatever the data: never a bar.
            assert_eq!(cap[0].0, cap[1].0);
            assert_eq!((cap[1].1 - cap[0].1).abs(), 6.0, "{cap:?}");
        }
    }
    for l in s
        .lines()
        .filter(|l| l.starts_with("<polyline class=\"ci\""))
    {
        assert_eq!(attr(l, "stroke-width"), 1.0, "thin: {l}");
    }
    // Points are drawn after (on top of) the intervals.
    let first_point = s.find("<circle class=\"point\"").unwrap();
    assert!(s.rfind("<polyline class=\"ci\"").unwrap() < first_point);
}

#[test]
fn the_share_axis_is_zoomed_by_default_full_or_given_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let stem = "all-ads-gender-female";
    let auto = svg(&tmp.path().join("out/imana2021-paired-jobs"), stem);
    assert!(
        has_text(&auto, "40") && has_text(&auto, "60"),
        "zoomed to 42-59%"
    );
    assert!(!has_text(&auto, "0") && !has_text(&auto, "100"));
    let full = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "full",
        &["--axis", "full"],
    );
    let full = svg(&full, stem);
    assert!(has_text(&full, "0") && has_text(&full, "100"));
    let given = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "given",
        &["--axis", "30,70"],
    );
    let given = svg(&given, stem);
    assert!(has_text(&given, "30") && has_text(&given, "70") && !has_text(&given, "80"));
    let wide = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "wide",
        &["--width", "two-column"],
    );
    assert!(svg(&wide, stem).starts_with("<svg width=\"7in\""));
}

#[test]
fn over_time_stops_at_the_end_of_the_schedule_with_a_band_and_an_end_marker() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let dir = tmp.path().join("out/imana2021-paired-jobs");
    let s = svg(&dir, "delivery-driver-over-time-gender-female");
    // One dotted vertical line (drawn in dashes).
    let end = polylines(&s, "end");
    let end_x = end[0][0].0;
    assert!(end.iter().flatten().all(|p| p.0 == end_x), "{end:?}");
    let last = points(&s).iter().map(|p| p.0).fold(0.0, f64::max);
    assert!(last <= end_x, "no point after the end: {last} > {end_x}");
    for line in polylines(&s, "line") {
        assert!(line.iter().all(|p| p.0 <= end_x));
    }
    assert!(has_text(&s, "end of schedule"));
    assert!(has_text(&s, "Days since launch"));
    // Tick labels: numbers without float noise.
    for (_, t) in texts(&s) {
        if let Ok(v) = t.parse::<f64>() {
            assert!(t.len() <= 5, "{t} ({v})");
        }
    }
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("share of women since launch"));
    assert!(md.contains("the re-collection after the end, which the tables use, is not drawn"));
}

#[test]
fn value_labels_of_the_paired_plot_clear_the_eligible_line() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    // On the full axis 52.1% and the 50.5% line are a few units apart (issue 17's
    // collision).
    let dir = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "full",
        &["--axis", "full"],
    );
    let s = svg(&dir, "software-engineer-paired-female");
    let line_y = polylines(&s, "reference")[0][0].1;
    let values: Vec<f64> = texts(&s)
        .iter()
        .filter(|(l, _)| l.starts_with("<text class=\"value\""))
        .map(|(l, _)| attr(l, "y"))
        .collect();
    assert_eq!(values.len(), 2);
    // 7.5 pt text is 10 units high: its centre at least half of that from the line.
    for y in values {
        assert!((y - line_y).abs() >= 5.0, "label at {y}, line at {line_y}");
    }
}

#[test]
fn report_flags_refuse_bad_values_with_the_fix_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    for (flags, says) in [
        (vec!["--axis", "70,30"], "0 <= lo < hi <= 100"),
        (vec!["--style", "poster"], "paper"),
        (vec!["--width", "wide"], "one-column"),
        (vec!["--label", "nosuch=X"], "--label nosuch=X"),
        (vec!["--label", "instacart_shopper="], "empty"),
    ] {
        let out = tmp.path().join("bad");
        let assert = adskew()
            .args(["report", "imana2021-paired-jobs", "--db"])
            .arg(tmp.path().join("a.db"))
            .arg("--out")
            .arg(&out)
            .args(&flags)
            .assert()
            .code(2);
        let stderr = stderr_of(&assert);
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
        assert!(!out.exists(), "{flags:?}: nothing written");
    }
}

#[test]
fn the_readme_figures_are_what_adskew_draws_now() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("figures");
    let status = std::process::Command::new("bash")
        .arg(root.join("scripts/figures/readme_examples.sh"))
        .arg(&out)
        .env("ADSKEW", env!("CARGO_BIN_EXE_adskew"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    for kind in [
        "dot",
        "paired",
        "composition",
        "over-time",
        "budget",
        "cost",
    ] {
        let drawn = std::fs::read(out.join(format!("{kind}.png"))).unwrap();
        let committed = std::fs::read(root.join(format!("docs/figures/{kind}.png"))).unwrap();
        assert!(
            drawn == committed,
            "docs/figures/{kind}.png is not what adskew draws now: run scripts/figures/readme_examples.sh and commit the PNGs"
        );
    }
}

#[test]
fn figures_tex_includes_the_figures_the_report_writes_with_title_and_caption() {
    let tmp = tempfile::tempdir().unwrap();
    run(&campaign("imana2021_paired_jobs.toml", &[]), tmp.path());
    let dir = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "tex",
        &["--format", "tex,pdf"],
    );
    let tex = std::fs::read_to_string(dir.join("figures.tex")).unwrap();
    let included: Vec<&str> = tex
        .lines()
        .filter_map(|l| l.strip_prefix("\\includegraphics["))
        .map(|l| &l[l.find("]{").unwrap() + 2..l.len() - 1])
        .collect();
    assert_eq!(included.len(), tex.matches("\\caption{").count());
    assert!(included.len() >= 8);
    for file in &included {
        assert!(file.ends_with(".pdf") && dir.join(file).exists(), "{file}");
    }
    assert!(tex.contains(
        "\\caption{Delivery-driver: share of women, paired. The share of people reached who were women"
    ));
    assert!(tex.contains("\\label{fig:imana2021-paired-jobs-delivery-driver-paired-female}"));
    // Without figure files there is nothing to include.
    let bare = report(
        tmp.path(),
        "imana2021-paired-jobs",
        "bare",
        &["--format", "tex"],
    );
    assert!(!bare.join("figures.tex").exists());
}
