//! Dot plot (`dot`, one column): a group's share per ad with CI bars, ads sorted by share,
//! and a dashed line at the eligible audience's share — Ali et al. 2019's job-ad figure.
//!
//! One per comparison and charted group (women; the z-test's group when it is another,
//! e.g. Black users in a mirrored design), and one of women over every ad of the
//! experiment when no comparison already holds them all.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    builder, category_label, draw_estimates, draw_reference, err, frame, hidden_intervals,
    hidden_note, label_room, percent_tick, share_range, style_mesh, Categories, Draw, DrawResult,
    Estimate, Layout, LegendItem, Orient, Pen, Width,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::analysis::ci::Interval;
use adskew_core::analysis::{Analysis, BreakdownResult, Share};
use adskew_core::vocab::{Breakdown, DEFAULT_GROUP};

/// One ad's point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The ad's display label.
    pub label: String,
    pub share: f64,
    pub low: f64,
    pub high: f64,
    /// The ad's colour in every figure of the report.
    pub colour: RGBColor,
}

/// What one dot plot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DotChart {
    pub title: String,
    /// The value axis' title.
    pub axis: String,
    /// Sorted by share.
    pub points: Vec<Point>,
    /// The eligible audience's share.
    pub reference: Option<f64>,
    /// "95% CI", for the legend.
    pub ci: String,
    /// The share axis' range.
    pub range: std::ops::Range<f64>,
}

fn sorted(mut points: Vec<Point>) -> Vec<Point> {
    points.retain(|p| p.share.is_finite());
    points.sort_by(|x, y| {
        x.share
            .total_cmp(&y.share)
            .then_with(|| x.label.cmp(&y.label))
    });
    points
}

fn point(report: &Report, key: &str, s: &Share) -> Point {
    Point {
        label: Labels::of(&report.experiment).ad(key),
        share: s.share,
        low: s.ci.low,
        high: s.ci.high,
        colour: super::palette::ad_colour(&report.experiment, key),
    }
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let labels = Labels::of(&report.experiment);
    let mut out = Vec::new();
    for c in &report.analysis.comparisons {
        for (b, group) in super::targets(c) {
            let points = super::shares_of(b, &group)
                .into_iter()
                .map(|s| point(report, &s.ad, s))
                .collect();
            let name = labels.comparison(&c.key);
            out.push(planned(
                report,
                super::stem(&[&c.key, b.breakdown.as_str(), &group]),
                format!("{name}: {}", short_title(&labels, &group)),
                (b, &group),
                points,
                &format!("comparison {name}"),
            ));
        }
    }
    if let Some(p) = all_ads(report) {
        out.push(p);
    }
    out
}

fn short_title(labels: &Labels, group: &str) -> String {
    format!("share of {} by ad", labels.group(group))
}

fn planned(
    report: &Report,
    stem: String,
    title: String,
    (b, group): (&BreakdownResult, &str),
    points: Vec<Point>,
    of_what: &str,
) -> Planned {
    let a: &Analysis = &report.analysis;
    let labels = Labels::of(&report.experiment);
    let points = sorted(points);
    let reference = super::reference_share(b, group);
    let range = share_range(
        points
            .iter()
            .flat_map(|p| [p.low, p.high, p.share])
            .chain(reference),
        report.experiment.figures.axis,
    );
    let hidden = hidden_intervals(&estimates(&points), range.end - range.start, 220.0);
    let chart = DotChart {
        title: super::in_figure_title(report, &title),
        axis: super::share_axis(&labels, b.metric, group),
        points,
        reference,
        ci: super::ci_short(&a.settings),
        range,
    };
    let caption = format!(
        "The {} for each ad of {of_what}, sorted, with {}{}",
        super::share_phrase(&labels, b.metric, group),
        crate::words::ci_intervals(&a.settings),
        hidden_note(hidden),
    );
    let caption = super::end_caption(caption, b, chart.reference);
    Planned::new(stem, "dot", title, caption, Plot::Dot(chart))
}

/// The points as estimates along the categories, bottom to top.
fn estimates(points: &[Point]) -> Vec<Estimate> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| Estimate {
            at: i as f64 + 0.5,
            value: p.share,
            low: p.low,
            high: p.high,
            colour: p.colour,
        })
        .collect()
}

/// Women's share for every ad of the experiment (the Ali et al. figure with all ads), when
/// gender was analysed and no comparison already holds every ad.
fn all_ads(report: &Report) -> Option<Planned> {
    let a = &report.analysis;
    let keys: Vec<&str> = report
        .experiment
        .ads
        .iter()
        .map(|x| x.key.as_str())
        .collect();
    let covered = a
        .comparisons
        .iter()
        .any(|c| c.ads.len() == keys.len() && keys.iter().all(|k| c.ads.iter().any(|x| x == k)));
    let female = DEFAULT_GROUP.as_str();
    let genders: Vec<&BreakdownResult> = a
        .comparisons
        .iter()
        .flat_map(|c| &c.breakdowns)
        .filter(|b| b.breakdown == Breakdown::Gender && b.groups.iter().any(|g| g == female))
        .collect();
    let first = *genders.first()?;
    if covered || keys.len() < 2 {
        return None;
    }
    let points = keys
        .iter()
        .map(|k| {
            // An ad's share depends only on its own counts, so any comparison holding it
            // gives the same number; an ad in none is counted from the totals.
            let analysed = genders
                .iter()
                .flat_map(|b| &b.shares)
                .find(|s| s.ad == *k && s.group == female);
            match analysed {
                Some(s) => point(report, k, s),
                None => unanalysed(report, k, &first.groups),
            }
        })
        .collect();
    Some(planned(
        report,
        super::stem(&["all-ads", "gender", female]),
        format!(
            "All ads: {}",
            short_title(&Labels::of(&report.experiment), female)
        ),
        (first, female),
        points,
        "the experiment",
    ))
}

/// Women's share of an ad that is in no comparison, from the latest totals, with the
/// analysis' CI method (the same counts the analysis would use).
fn unanalysed(report: &Report, ad: &str, groups: &[String]) -> Point {
    let s = &report.analysis.settings;
    let rows = report.totals.get(&Breakdown::Gender).map_or(&[][..], |v| v);
    let count = |g: &str| -> u64 {
        rows.iter()
            .filter(|r| r.ad_key == ad && r.value == g)
            .map(|r| match s.metric {
                adskew_core::vocab::Metric::Impressions => r.impressions,
                _ => r.reach,
            })
            .fold(0, u64::saturating_add)
    };
    let x = count(DEFAULT_GROUP.as_str());
    let n = groups.iter().map(|g| count(g)).fold(0, u64::saturating_add);
    let ci = Interval::proportion(x, n, s.ci_level, s.ci);
    Point {
        label: Labels::of(&report.experiment).ad(ad),
        share: if n > 0 { x as f64 / n as f64 } else { f64::NAN },
        low: ci.low,
        high: ci.high,
        colour: super::palette::ad_colour(&report.experiment, ad),
    }
}

impl Draw for DotChart {
    fn width(&self) -> Width {
        Width::OneColumn
    }

    fn height(&self) -> u32 {
        (96 + 18 * self.points.len().max(2)) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let mut legend = vec![LegendItem::estimates(&self.ci)];
        if let Some(r) = self.reference {
            legend.push(LegendItem::eligible(r));
        }
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend).x_title(&self.axis),
        )?;
        let labels: Vec<String> = self.points.iter().map(|p| p.label.clone()).collect();
        let n = labels.len().max(1);
        let mut cc = builder(&plot, pen, 16.0, label_room(&labels))
            .build_cartesian_2d(self.range.clone(), Categories(n))
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.x_labels(6)
            .x_label_formatter(&percent_tick)
            .y_label_formatter(&|y| category_label(&labels, *y))
            .draw()
            .map_err(err)?;
        if let Some(r) = self.reference {
            draw_reference(&mut cc, pen, r, Orient::Horizontal, (0.0, n as f64))?;
        }
        draw_estimates(&mut cc, pen, &estimates(&self.points), Orient::Horizontal)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::style::render_svg;

    fn chart(title: &str) -> DotChart {
        DotChart {
            title: title.to_string(),
            axis: "Share of people reached who are women (%)".to_string(),
            points: vec![Point {
                label: "a".to_string(),
                share: 0.4,
                low: 0.35,
                high: 0.45,
                colour: super::super::palette::AD_COLOURS[0],
            }],
            reference: Some(0.5),
            ci: "95% Wilson CI".to_string(),
            range: 0.0..1.0,
        }
    }

    /// The font size of the SVG's first text (the title).
    fn title_size(svg: &str) -> f64 {
        let line = svg.lines().find(|l| l.starts_with("<text")).unwrap();
        let start = line.find("font-size=\"").unwrap() + 11;
        line[start..start + line[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    }

    #[test]
    fn long_titles_are_set_smaller_not_cut() {
        let short = render_svg(&chart("jobs: share of women by ad")).unwrap();
        assert_eq!(title_size(&short), 12.0, "9 pt");
        let long = render_svg(&chart(
            "a-very-long-comparison-key-that-goes-on: share of women by ad",
        ))
        .unwrap();
        assert!(title_size(&long) < 12.0);
        assert!(title_size(&long) >= 8.0, "never below 6 pt");
    }
}
