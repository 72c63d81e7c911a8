//! Every chart kind from the example experiments, run on the simulator through the binary,
//! checked by reading the SVG: how many marks of each class (`point`, `ci`, `bar`, `line`,
//! `fit`, `reference`, `annotation`, `legend`), the labels, and the numbers written on
//! the chart against the results and an independent computation. Also: SVGs regenerate
//! byte for byte, PNGs are 300 dpi at one or two columns, PDFs are at the printed size.

mod common;
use common::adskew;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adskew::analysis;
use adskew::report::charts::{self, ChartExporter, Formats};
use adskew::report::{Exporter, Report};
use adskew::store::Store;
use serde_json::Value;

/// Runs `campaigns/<file>` into `dir` (database `a.db`, reports under `out/`) and returns
/// the report directory.
fn run(file: &str, dir: &Path, name: &str) -> PathBuf {
    adskew()
        .args(["run", "--quiet"])
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("campaigns")
                .join(file),
        )
        .arg("--db")
        .arg(dir.join("a.db"))
        .arg("--out")
        .arg(dir.join("out"))
        .assert()
        .success();
    dir.join("out").join(name)
}

fn results(report_dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(report_dir.join("results.json")).unwrap())
        .unwrap()
}

fn svg(report_dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(report_dir.join(format!("{stem}.svg")))
        .unwrap_or_else(|e| panic!("{stem}.svg: {e}"))
}

/// Elements `<tag class="class"`.
fn marks(svg: &str, tag: &str, class: &str) -> usize {
    svg.matches(&format!("<{tag} class=\"{class}\"")).count()
}

/// The text content of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = svg.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("<text") {
            out.push(lines.next().unwrap_or("").to_string());
        }
    }
    out
}

fn has_text(svg: &str, wanted: &str) -> bool {
    texts(svg).iter().any(|t| t == wanted)
}

/// A numeric attribute of an element line.
fn attr(line: &str, name: &str) -> f64 {
    let start = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let rest = &line[start..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

/// The report of the run as the library builds it (for `figures` and the exporter).
fn report(dir: &Path, name: &str) -> Report {
    let store = Store::open_existing(&dir.join("a.db")).unwrap();
    let record = store.find_experiment(name).unwrap();
    let inputs = adskew::report_inputs(&store, &record).unwrap();
    let analysis = analysis::analyze(&inputs);
    Report::load(&store, inputs, analysis).unwrap()
}

fn comparison<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap()
}

/// Each ad's share of `group` in a comparison's `breakdown`, from results.json.
fn shares(r: &Value, key: &str, breakdown: &str, group: &str) -> BTreeMap<String, f64> {
    comparison(r, key)["breakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["breakdown"] == breakdown)
        .unwrap()["shares"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["group"] == group)
        .map(|s| {
            (
                s["ad"].as_str().unwrap().to_string(),
                s["share"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn dot_plot_has_one_point_and_ci_bar_per_ad_sorted_with_the_eligible_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run("ali2019_job_ads.toml", tmp.path(), "ali2019-job-ads");
    let s = svg(&dir, "all-jobs-gender-female");
    let ads = shares(&results(&dir), "all-jobs", "gender", "female");
    assert_eq!(ads.len(), 8);
    assert_eq!(marks(&s, "circle", "point"), 8, "one point per ad");
    assert_eq!(
        marks(&s, "polyline", "ci"),
        3 * 8,
        "a bar and two caps per ad"
    );
    assert!(marks(&s, "polyline", "reference") > 0, "the eligible line");
    for ad in ads.keys() {
        assert!(has_text(&s, ad), "{ad} labelled");
    }
    assert!(has_text(&s, "Share of people reached who are women (%)"));
    assert!(has_text(&s, "eligible audience (50.5%)"));
    assert!(texts(&s)
        .iter()
        .any(|t| t.starts_with("ad (99% Agresti–Coull CI")));
    // Sorted: going up the chart (smaller y), the share (x) grows, in the order of the
    // results.
    let mut points: Vec<(f64, f64)> = s
        .lines()
        .filter(|l| l.starts_with("<circle class=\"point\""))
        .map(|l| (attr(l, "cy"), attr(l, "cx")))
        .collect();
    points.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert!(points.windows(2).all(|w| w[0].1 <= w[1].1), "{points:?}");
    // This experiment compares all its ads at once, so there is no extra all-ads plot.
    assert!(!dir.join("all-ads-gender-female.svg").exists());
}

#[test]
fn every_ad_gets_a_dot_plot_when_comparisons_split_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    let s = svg(&dir, "all-ads-gender-female");
    assert_eq!(marks(&s, "circle", "point"), 4);
    for ad in [
        "dominos_driver",
        "instacart_shopper",
        "nvidia_swe",
        "netflix_swe",
    ] {
        assert!(has_text(&s, ad), "{ad}");
    }
}

#[test]
fn paired_plot_connects_two_ads_and_writes_z_and_p() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    let r = results(&dir);
    for key in ["delivery-driver", "software-engineer"] {
        let s = svg(&dir, &format!("{key}-paired-female"));
        let z = common::z_test(comparison(&r, key));
        assert_eq!(marks(&s, "circle", "point"), 2, "{key}");
        assert_eq!(marks(&s, "polyline", "ci"), 6, "{key}");
        assert_eq!(
            marks(&s, "polyline", "line"),
            1,
            "{key}: the two ads connected"
        );
        for ad in [&z["ad1"], &z["ad2"]] {
            assert!(has_text(&s, ad.as_str().unwrap()), "{key}: {ad}");
        }
        let note: Vec<String> = s
            .lines()
            .skip_while(|l| !l.starts_with("<text class=\"annotation\""))
            .skip(1)
            .take(1)
            .map(str::to_string)
            .collect();
        let expected_z = format!("z = {:.1}", z["statistic"].as_f64().unwrap());
        assert!(
            note[0].starts_with(&format!("{expected_z}, p ")),
            "{key}: {note:?} should start with {expected_z}"
        );
        // Values shown next to the points are the results' shares.
        for share in [&z["share1"], &z["share2"]] {
            let shown = format!("{:.1}%", share.as_f64().unwrap() * 100.0);
            assert!(has_text(&s, &shown), "{key}: {shown}");
        }
    }
    // The delivery-driver skew is far past double precision: the bound comes from log10 p.
    let s = svg(&dir, "delivery-driver-paired-female");
    assert!(s.contains(", p &lt; 10⁻"), "p written as a power of ten");
}

#[test]
fn composition_stacks_every_group_of_every_ad_and_the_eligible_audience() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    let gender = svg(&dir, "composition-gender");
    // 4 ads × (women, men), then the eligible audience: the tested groups, the
    // denominator of the text and the tests (unknown gender left out, and said so).
    assert_eq!(marks(&gender, "rect", "bar"), 4 * 2 + 2);
    assert_eq!(marks(&gender, "rect", "legend"), 2);
    for label in ["women", "men", "eligible audience", "netflix_swe"] {
        assert!(has_text(&gender, label), "{label}");
    }
    assert!(!has_text(&gender, "unknown"));
    let figure = charts::figures(&report(tmp.path(), "imana2021-paired-jobs"))
        .into_iter()
        .find(|f| f.stem == "composition-gender")
        .unwrap();
    assert!(
        figure.caption.contains("people of unknown gender (")
            && figure.caption.contains("are left out"),
        "{}",
        figure.caption
    );
    let age = svg(&dir, "composition-age");
    assert_eq!(
        marks(&age, "rect", "bar"),
        5 * 6,
        "six age buckets, 4 ads + eligible"
    );
    assert!(has_text(&age, "65+"));
    assert!(has_text(&age, "Share of people reached (%)"));
}

#[test]
fn over_time_draws_one_line_per_ad_with_a_point_per_collection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    // Every collection of the schedule; the re-collection after its end is not drawn.
    let collections = results(&dir)["data"]["collections"].as_u64().unwrap() as usize - 1;
    assert!(collections >= 5);
    let s = svg(&dir, "delivery-driver-over-time-gender-female");
    assert_eq!(marks(&s, "polyline", "line"), 2);
    assert_eq!(marks(&s, "circle", "point"), 2 * collections);
    assert_eq!(marks(&s, "polygon", "band"), 2, "a CI band per ad");
    assert!(has_text(&s, "Days since launch"));
    assert!(has_text(&s, "dominos_driver") && has_text(&s, "instacart_shopper"));
    let figure = charts::figures(&report(tmp.path(), "imana2021-paired-jobs"))
        .into_iter()
        .find(|f| f.stem == "delivery-driver-over-time-gender-female")
        .unwrap();
    assert!(
        figure
            .caption
            .contains(&format!("at each of the {collections} collections")),
        "{}",
        figure.caption
    );
}

#[test]
fn budget_chart_fits_a_line_whose_r_and_slope_match_an_independent_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run("budget_sweep.toml", tmp.path(), "budget-sweep");
    let by_ad = shares(&results(&dir), "budgets", "gender", "female");
    // Budgets from the ad keys (usd01 = $1 a day), as in campaigns/budget_sweep.toml; the
    // fit is in log10 of the budget, the axis it is drawn on.
    let points: Vec<(f64, f64)> = by_ad
        .iter()
        .map(|(k, s)| {
            let budget = k.trim_start_matches("usd").parse::<f64>().unwrap();
            (budget.log10(), *s)
        })
        .collect();
    assert_eq!(points.len(), 6);
    // Raw sums (not the centred sums the chart uses).
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let sxx: f64 = points.iter().map(|p| p.0 * p.0).sum();
    let syy: f64 = points.iter().map(|p| p.1 * p.1).sum();
    let sxy: f64 = points.iter().map(|p| p.0 * p.1).sum();
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    let r = (n * sxy - sx * sy) / ((n * sxx - sx * sx).sqrt() * (n * syy - sy * sy).sqrt());
    assert!(r > 0.5, "women's share rises with the budget (r = {r})");

    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let fit = charts::budget::least_squares(&xs, &ys).unwrap();
    assert!((fit.r - r).abs() < 1e-9, "{} vs {r}", fit.r);
    assert!((fit.slope - slope).abs() < 1e-9, "{} vs {slope}", fit.slope);

    let s = svg(&dir, "budgets-budget-gender-female");
    assert!(
        has_text(
            &s,
            &format!(
                "Pearson r = {r:.2}; {:.1} points per 10× budget",
                slope * 100.0
            )
        ),
        "{:?}",
        texts(&s)
    );
    assert_eq!(marks(&s, "circle", "point"), 6);
    assert_eq!(marks(&s, "polyline", "fit"), 1);
    assert!(has_text(&s, "Daily budget (USD, log scale)"));
    // Log-axis ticks at 1, 2, 5 × 10^k over the budgets ($1 to $50).
    for tick in ["1", "2", "5", "10", "20", "50"] {
        assert!(has_text(&s, tick), "tick {tick}: {:?}", texts(&s));
    }
    // Equal ratios take equal room: $1 to $2 as wide as $10 to $20.
    let x = |t: &str| {
        let mut lines = s.lines();
        while let Some(l) = lines.next() {
            if l.starts_with("<text") && lines.next() == Some(t) {
                return attr(l, "x");
            }
        }
        panic!("no tick {t}")
    };
    assert!(((x("2") - x("1")) - (x("20") - x("10"))).abs() <= 1.0);
    // The fitted line passes through its ends at the smallest and largest budget.
    let line = s
        .lines()
        .find(|l| l.starts_with("<polyline class=\"fit\""))
        .unwrap();
    assert_eq!(line.matches(',').count(), 2, "a straight segment: {line}");
}

#[test]
fn cost_chart_has_spend_and_cost_per_thousand_bars_per_ad_and_gender() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run("budget_sweep.toml", tmp.path(), "budget-sweep");
    let report = report(tmp.path(), "budget-sweep");
    let rows = &report.totals[&adskew::vocab::Breakdown::Gender];
    let mut cells: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in rows {
        *cells
            .entry((row.ad_key.clone(), row.value.clone()))
            .or_default() += row.reach;
    }
    // Every cell has a spend bar; those that reached someone also a cost bar.
    let expected = cells.len() + cells.values().filter(|r| **r > 0).count();
    let s = svg(&dir, "cost-gender");
    assert_eq!(marks(&s, "rect", "bar"), expected);
    assert!(has_text(&s, "Spend (USD)"));
    assert!(has_text(&s, "Cost per 1,000 people reached (USD)"));
    for ad in ["usd01", "usd50"] {
        assert!(has_text(&s, ad));
    }
}

#[test]
fn mirrored_design_charts_black_users_read_off_the_regions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run("mirrored_race.toml", tmp.path(), "mirrored-race");
    let dot = svg(&dir, "lumber-vs-taxi-race-black");
    assert_eq!(marks(&dot, "circle", "point"), 2);
    assert!(has_text(&dot, "Share of people reached who are Black (%)"));
    let paired = svg(&dir, "lumber-vs-taxi-paired-black");
    assert!(texts(&paired).iter().any(|t| t.starts_with("z = ")));
    // Over time, pooled per collection: the last point is the tested share.
    let over = svg(&dir, "lumber-vs-taxi-over-time-race-black");
    assert_eq!(marks(&over, "polyline", "line"), 2);
    let composition = svg(&dir, "composition-race");
    assert!(has_text(&composition, "Black") && has_text(&composition, "White"));
}

#[test]
fn figures_match_the_files_with_a_caption_each() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    let figures = charts::figures(&report(tmp.path(), "imana2021-paired-jobs"));
    let kinds: std::collections::BTreeSet<&str> = figures.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            "composition",
            "cost",
            "dot",
            "over-time",
            "paired",
            "sequential"
        ]
        .into_iter()
        .collect()
    );
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".svg").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut stems: Vec<String> = figures.iter().map(|f| f.stem.clone()).collect();
    stems.sort();
    assert_eq!(stems, on_disk);
    for f in &figures {
        assert_eq!(
            f.svg,
            svg(&dir, &f.stem),
            "{}: figures() renders the file",
            f.stem
        );
        assert!(f.caption.ends_with('.'), "{}", f.caption);
        assert_eq!(
            f.caption.matches(". ").count(),
            0,
            "one sentence: {}",
            f.caption
        );
        let metric = f.caption.contains("people reached") || f.caption.contains("impressions");
        assert!(metric, "the caption names the metric: {}", f.caption);
        assert!(!f.title.is_empty());
    }
}

/// The `width="3.5in"` of an SVG, in inches.
fn svg_inches(svg: &str) -> f64 {
    let head = svg.lines().next().unwrap();
    let start = head.find("width=\"").unwrap() + 7;
    head[start..head[start..].find("in\"").unwrap() + start]
        .parse()
        .unwrap()
}

#[test]
fn svgs_and_pngs_regenerate_byte_for_byte_and_pngs_are_300_dpi_at_print_width() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        "imana2021_paired_jobs.toml",
        tmp.path(),
        "imana2021-paired-jobs",
    );
    let read = |d: &Path, ext: &str| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect()
    };
    let first = read(&dir, "svg");
    let first_pngs = read(&dir, "png");
    assert!(first.len() >= 9, "{:?}", first.keys());
    assert_eq!(first_pngs.len(), first.len(), "a PNG of every SVG");
    adskew()
        .args(["report", "imana2021-paired-jobs", "--db"])
        .arg(tmp.path().join("a.db"))
        .arg("--out")
        .arg(tmp.path().join("again"))
        .assert()
        .success();
    let again = tmp.path().join("again/imana2021-paired-jobs");
    assert_eq!(read(&again, "svg"), first);
    // The PNGs, rendered on as many threads as there are cores, come out the same too.
    for (name, png) in read(&again, "png") {
        assert!(first_pngs[&name] == png, "{name} differs");
    }

    for (name, bytes) in &first {
        let inches = svg_inches(std::str::from_utf8(bytes).unwrap());
        assert!(inches == 3.5 || inches == 7.0, "{name}: {inches} in");
        let png = std::fs::read(dir.join(name.replace(".svg", ".png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width as f64, inches * 300.0, "{name}: 300 dpi across");
        let phys = png
            .windows(4)
            .position(|w| w == b"pHYs")
            .expect("pHYs chunk");
        let per_metre = u32::from_be_bytes(png[phys + 4..phys + 8].try_into().unwrap());
        assert_eq!(per_metre, 11811, "{name}: 300 dpi = 11811 px/m");
        assert_eq!(png[phys + 12], 1, "unit: metre");
    }
}

#[test]
fn pdfs_on_request_at_the_printed_size() {
    let tmp = tempfile::tempdir().unwrap();
    run("budget_sweep.toml", tmp.path(), "budget-sweep");
    let report = report(tmp.path(), "budget-sweep");
    let out = tmp.path().join("pdf");
    std::fs::create_dir_all(&out).unwrap();
    let only_pdf = ChartExporter {
        formats: Formats {
            svg: false,
            png: false,
            pdf: true,
        },
    };
    let files = only_pdf.export(&report, &out).unwrap();
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(f.extension().unwrap(), "pdf");
        let pdf = std::fs::read(f).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{}", f.display());
        // One column is 3.5 in = 252 pt wide, two columns 504 pt.
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("/MediaBox [0 0 252 ") || text.contains("/MediaBox [0 0 504 "),
            "{}",
            f.display()
        );
        assert!(text.contains("DejaVu"), "{}: font embedded", f.display());
    }
    // The same data give the same PDF.
    let again = tmp.path().join("pdf2");
    std::fs::create_dir_all(&again).unwrap();
    only_pdf.export(&report, &again).unwrap();
    for f in &files {
        assert_eq!(
            std::fs::read(f).unwrap(),
            std::fs::read(again.join(f.file_name().unwrap())).unwrap(),
            "{}",
            f.display()
        );
    }
    // The default writes SVG and PNG only.
    assert_eq!(ChartExporter::default().formats, Formats::default());
    assert!(!Formats::default().pdf);
}
