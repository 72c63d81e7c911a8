//! `report.html`: the whole report in one self-contained file for co-authors who will not
//! run adskew: summary and design, spend, every chart (inline SVG), every table, the
//! results in words, and provenance.
//!
//! Self-contained means it opens from an e-mail attachment: no scripts, fonts, styles or
//! images are fetched (a Content-Security-Policy forbids it; the one font, each chart's
//! subset of DejaVu Sans, is inside its SVG as a `data:` URL), and nothing depends on the
//! machine that wrote it. A short inline script only checks, once the page has loaded, that
//! every chart rendered, and writes the result on `<body>` (`data-charts-rendered`,
//! `data-errors`) where a headless browser test can read it (`tests/report_html.rs`).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::tables::{tables, Table};
use super::words::{describe_breakdown, describe_paired_as, describe_refused};
use super::{write_file, Exporter, Report};
use adskew_core::error::Result;
use adskew_core::experiment::Budget;

pub use super::charts::Figure;

pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn name(&self) -> &'static str {
        "html"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("report.html");
        write_file(
            &path,
            render(report, &super::charts::figures(report)).as_bytes(),
        )?;
        Ok(vec![path])
    }
}

/// Escapes prose for HTML and sets its `code` spans (as the sentences of `words` write
/// ad keys) in `<code>`.
fn prose(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { border-top: 2px solid #222; border-bottom: 1px solid #222; }
tbody tr:last-child td { border-bottom: 2px solid #222; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-size: .85rem; color: #444; padding-bottom: .3rem; }
figure.chart { margin: 1.6rem 0; } figure.chart svg { width: 100%; height: auto; }
figure.one-column svg { max-width: 34rem; }
figcaption { font-size: .85rem; color: #444; }
.note { font-size: .8rem; color: #555; }
.warning { background: #fff4e5; border-left: 4px solid #d55e00; padding: .4rem .8rem; }
code { font-size: .9em; }
";

/// Checks, after load, that every chart has an SVG with a size and marks in it.
const CHECK: &str = "
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  window.addEventListener('load', function () {
    var rendered = 0;
    document.querySelectorAll('figure.chart').forEach(function (f) {
      var svg = f.querySelector('svg');
      if (!svg) { errors.push('no svg in ' + f.id); return; }
      var box = svg.getBoundingClientRect();
      var marks = svg.querySelectorAll('circle, rect, line, polyline, path, text').length;
      if (box.width > 0 && box.height > 0 && marks > 0) { rendered += 1; }
      else { errors.push('chart ' + f.id + ' did not render'); }
    });
    document.body.setAttribute('data-charts-rendered', String(rendered));
    document.body.setAttribute('data-errors', errors.join('; '));
  });
})();
";

/// Renders the page.
pub fn render(report: &Report, figures: &[Figure]) -> String {
    let mut s = String::new();
    head(&mut s, report, figures);
    summary(&mut s, report);
    design(&mut s, report);
    results(&mut s, report);
    charts(&mut s, figures);
    tables_section(&mut s, report);
    provenance(&mut s, report);
    s
}

/// The document head (styles, the self-check script) and the title.
fn head(s: &mut String, report: &Report, figures: &[Figure]) {
    let a = &report.analysis;
    let e = &a.experiment;

    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; font-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"adskew {}\">\n<title>{} — adskew report</title>\n<style>{STYLE}</style>\n<script>{CHECK}</script>\n</head>\n<body data-charts=\"{}\">\n",
        esc(&a.adskew_version),
        esc(&e.name),
        figures.len()
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(&e.name));
    if !e.description.trim().is_empty() {
        let _ = writeln!(s, "<p>{}</p>", esc(e.description.trim()));
    }
}

/// State, dates, collections, spend and test settings; ads the platform refused.
fn summary(s: &mut String, report: &Report) {
    let a = &report.analysis;
    let e = &a.experiment;
    let _ = writeln!(s, "<h2 id=\"summary\">Summary</h2>\n<table>\n<tbody>");
    let state = match &e.state_cause {
        Some(cause) => format!("{} ({cause})", e.state),
        None => e.state.to_string(),
    };
    let collections = format!(
        "{} (first {}, last {})",
        a.data.collections,
        a.data.first_collection_at.as_deref().unwrap_or("-"),
        a.data.last_collection_at.as_deref().unwrap_or("-")
    );
    let spend = format!(
        "{} of a {} {} cap",
        a.data.spend, a.data.spend_cap, a.data.currency
    );
    let tests = format!(
        "{}; counts: {}",
        super::words::settings_summary(a),
        a.settings.metric
    );
    for (k, v) in [
        ("Platform", e.platform.as_str()),
        ("State", state.as_str()),
        ("Activated", e.started_at.as_deref().unwrap_or("-")),
        ("Ended", e.ended_at.as_deref().unwrap_or("-")),
        ("Collections", collections.as_str()),
        ("Spend", spend.as_str()),
        ("Tests", tests.as_str()),
    ] {
        let _ = writeln!(s, "<tr><th>{k}</th><td>{}</td></tr>", esc(v));
    }
    let _ = writeln!(s, "</tbody>\n</table>");
    for ad in a.ads.iter().filter(|ad| ad.platform_problem.is_some()) {
        let _ = writeln!(
            s,
            "<p class=\"warning\">{}</p>",
            prose(&describe_refused(ad))
        );
    }
    if let Some(nothing) = super::words::describe_no_delivery(a) {
        let _ = writeln!(s, "<p class=\"warning\">{}</p>", prose(&nothing));
    }
}

/// The audience, objective, schedule and each ad's budget.
fn design(s: &mut String, report: &Report) {
    let a = &report.analysis;
    let exp = &report.experiment;
    let _ = writeln!(s, "<h2 id=\"design\">Design</h2>");
    let audience = &exp.audience;
    let mut targeting = format!(
        "Ages {}–{} in {}",
        audience.age_min,
        audience.age_max,
        if audience.regions.is_empty() {
            audience.countries.join(", ")
        } else {
            audience.regions.join(", ")
        }
    );
    if let Some(d) = &exp.design {
        let _ = write!(
            targeting,
            "; {:?} design over partitions {}",
            d.kind,
            d.partitions.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "<p>One audience for every ad: {}. Objective {}, special ad category {}. The ads were created paused and switched on together; each ran for {} with its own budget. {}</p>",
        esc(&targeting),
        esc(exp.objective.as_str()),
        esc(exp.category.as_str()),
        esc(&humantime(exp.schedule.duration)),
        esc(&super::words::describe_placements(&exp.audience))
    );
    let _ = writeln!(
        s,
        "<table>\n<thead><tr><th>Ad</th><th>Headline</th><th class=\"num\">Budget ({})</th></tr></thead>\n<tbody>",
        esc(&a.data.currency)
    );
    for ad in &exp.ads {
        let budget = match ad.budget {
            Budget::Daily(m) => format!("{m} a day"),
            Budget::Lifetime(m) => format!("{m} in all"),
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            prose(&crate::labels::Labels::of(exp).ad_in_prose(&ad.key)),
            esc(&ad.headline),
            esc(&budget)
        );
    }
    let _ = writeln!(s, "</tbody>\n</table>");
}

/// Each comparison's results in words.
fn results(s: &mut String, report: &Report) {
    let a = &report.analysis;
    let labels = crate::labels::Labels::of(&report.experiment);
    let _ = writeln!(s, "<h2 id=\"results\">Results</h2>");
    for c in &a.comparisons {
        let _ = writeln!(
            s,
            "<h3>Comparison {}</h3>",
            prose(&labels.comparison_in_prose(&c.key))
        );
        if let Some(x) = &c.expected {
            let _ = writeln!(
                s,
                "<p>Pre-registered: {} reaches a larger share of {}.</p>",
                prose(&labels.ad_in_prose(&x.ad)),
                esc(&labels.group(&x.group))
            );
        }
        if let Some(p) = c.paired() {
            let _ = writeln!(
                s,
                "<p>{}</p>",
                prose(&describe_paired_as(a, p, &|k| labels.ad_in_prose(k)))
            );
        }
        for b in &c.breakdowns {
            let _ = writeln!(s, "<p>{}</p>", prose(&describe_breakdown(a, b)));
        }
    }
}

/// Every figure, inline, with its caption.
fn charts(s: &mut String, figures: &[Figure]) {
    let _ = writeln!(s, "<h2 id=\"charts\">Charts</h2>");
    for (i, f) in figures.iter().enumerate() {
        let _ = writeln!(
            s,
            "<figure class=\"chart {}\" id=\"fig-{}\" data-kind=\"{}\">\n{}\n<figcaption><b>Figure {}. {}.</b> {}</figcaption>\n</figure>",
            match f.width {
                super::charts::style::Width::OneColumn => "one-column",
                super::charts::style::Width::TwoColumn => "two-column",
            },
            esc(&f.stem),
            f.kind,
            strip_xml_declaration(&f.svg),
            i + 1,
            esc(&f.title),
            esc(&f.caption)
        );
    }
}

/// Every table as HTML.
fn tables_section(s: &mut String, report: &Report) {
    let _ = writeln!(s, "<h2 id=\"tables\">Tables</h2>");
    for t in tables(report) {
        s.push_str(&table_html(&t));
    }
}

/// Where every number came from: files, hashes, versions, database, collections.
fn provenance(s: &mut String, report: &Report) {
    let a = &report.analysis;
    let e = &a.experiment;
    let _ = writeln!(s, "<h2 id=\"provenance\">Provenance</h2>\n<ul>");
    let database = report
        .database
        .as_ref()
        .map_or("-".to_string(), |d| d.display().to_string());
    for (k, v) in [
        ("Experiment file", e.file_path.clone()),
        ("File SHA-256", e.file_sha256.clone()),
        (
            "Resolved experiment SHA-256 (file plus overrides)",
            e.resolved_sha256.clone(),
        ),
        (
            "Environment overrides",
            if e.overrides.is_empty() {
                "none".into()
            } else {
                e.overrides.join(", ")
            },
        ),
        (
            "Versions",
            format!(
                "run {} by adskew {}; report by adskew {}",
                e.id, e.run_by_adskew_version, a.adskew_version
            ),
        ),
        ("Database", database),
    ] {
        let _ = writeln!(s, "<li>{k}: <code>{}</code></li>", esc(&v));
    }
    let times: Vec<String> = report
        .collections
        .iter()
        .map(|c| format!("#{} at {}", c.id, c.platform_time))
        .collect();
    let _ = writeln!(
        s,
        "<li>Collections: {}</li>\n<li>Every number here is in <code>results.json</code>.</li>\n</ul>\n</body>\n</html>",
        esc(&times.join(", "))
    );
}

fn humantime(d: chrono::TimeDelta) -> String {
    let hours = d.num_hours();
    if hours % 24 == 0 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    }
}

/// An SVG file's text without its `<?xml ...?>` line, for inlining.
fn strip_xml_declaration(svg: &str) -> &str {
    match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, r)| r.trim_start()),
        None => svg,
    }
}

fn table_html(t: &Table) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<table id=\"table-{}\">\n<caption>{}</caption>\n<thead><tr>",
        esc(&t.stem),
        esc(&t.caption)
    );
    let numeric: Vec<bool> = (0..t.headers.len())
        .map(|j| t.rows.iter().any(|r| r[j].numeric))
        .collect();
    for (h, num) in t.headers.iter().zip(&numeric) {
        let class = if *num { " class=\"num\"" } else { "" };
        let _ = write!(s, "<th{class}>{}</th>", esc(&h.heading));
    }
    let _ = writeln!(s, "</tr></thead>\n<tbody>");
    for row in &t.rows {
        let _ = write!(s, "<tr>");
        for c in row {
            let class = if c.numeric { " class=\"num\"" } else { "" };
            let _ = write!(s, "<td{class}>{}</td>", esc(&c.shown));
        }
        let _ = writeln!(s, "</tr>");
    }
    let _ = writeln!(s, "</tbody>\n</table>");
    if let Some(note) = &t.note {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(note));
    }
    s
}
