//! Composition (`composition`, two columns): each ad's delivered composition by one
//! breakdown as a stacked bar (gender, age buckets, regions, race in mirrored designs),
//! with the eligible audience's as a last bar where it is known.
//!
//! The denominator is the one of the tests and the text: the groups the analysis tested
//! (without unknown gender unless `include_unknown`), so a bar's 58% is the 58% the text
//! reports; the caption says which groups were left out and how large they were.
//!
//! Platforms report age and gender as separate breakdowns here (adskew collects each on
//! its own), so there is one figure per breakdown and no age × gender figure.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::group_colour;
use super::style::{
    builder, category_label, class, err, frame, label_room, percent_tick, style_mesh, Categories,
    Draw, DrawResult, Layout, LegendItem, Pen, Swatch, Width, TICK_PT,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::vocab::{AgeBucket, Breakdown, Gender, Metric};

/// Segments narrower than this carry no percentage.
const LABELLED: f64 = 0.06;

/// One bar: a label and each group's share (in `groups` order, summing to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub shares: Vec<f64>,
}

/// What one composition chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CompositionChart {
    pub title: String,
    pub axis: String,
    pub groups: Vec<String>,
    /// The groups' legend labels.
    pub legend: Vec<String>,
    /// Ads first (top to bottom), then the eligible audience if known.
    pub bars: Vec<Bar>,
}

fn order(breakdown: Breakdown, value: &str) -> (usize, String) {
    let known = match breakdown {
        Breakdown::Gender => Gender::parse(value).map(|g| g as usize),
        Breakdown::Age => AgeBucket::parse(value).map(|a| a as usize),
        Breakdown::Region | Breakdown::Race => None,
    };
    (known.unwrap_or(usize::MAX), value.to_string())
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let labels = Labels::of(&report.experiment);
    let metric = a.settings.metric;
    let mut out = Vec::new();
    for (breakdown, rows) in &report.totals {
        // The analysed groups of this breakdown, when it was analysed: the tests'
        // denominator. The eligible audience's shares come with them.
        let analysed = a
            .comparisons
            .iter()
            .flat_map(|c| &c.breakdowns)
            .find(|b| b.breakdown == *breakdown && !b.groups.is_empty());
        let mut all: Vec<String> = rows.iter().map(|r| r.value.clone()).collect();
        all.sort_by_key(|g| order(*breakdown, g));
        all.dedup();
        let groups: Vec<String> = match analysed {
            Some(b) => all
                .iter()
                .filter(|g| b.groups.contains(g))
                .cloned()
                .collect(),
            None => all.clone(),
        };
        if groups.len() < 2 {
            continue;
        }
        let count = |ad: &str, g: &str| {
            rows.iter()
                .filter(|r| r.ad_key == ad && r.value == g)
                .map(|r| match metric {
                    Metric::Impressions => r.impressions,
                    _ => r.reach,
                })
                .fold(0u64, u64::saturating_add)
        };
        let mut bars = Vec::new();
        // Per ad: the left-out groups' share of everyone.
        let mut left_out: Vec<f64> = Vec::new();
        for ad in &report.experiment.ads {
            let counts: Vec<u64> = groups.iter().map(|g| count(&ad.key, g)).collect();
            let total = counts.iter().copied().fold(0, u64::saturating_add);
            let everyone = all
                .iter()
                .map(|g| count(&ad.key, g))
                .fold(0, u64::saturating_add);
            if total == 0 {
                continue;
            }
            left_out.push(1.0 - total as f64 / everyone as f64);
            bars.push(Bar {
                label: labels.ad(&ad.key),
                shares: counts.iter().map(|c| *c as f64 / total as f64).collect(),
            });
        }
        if bars.is_empty() {
            continue;
        }
        let eligible = analysed.filter(|b| !b.eligible.is_empty());
        if let Some(b) = eligible {
            bars.push(Bar {
                label: "eligible audience".to_string(),
                shares: groups
                    .iter()
                    .map(|g| {
                        b.groups
                            .iter()
                            .position(|x| x == g)
                            .map_or(0.0, |j| b.eligible[j])
                    })
                    .collect(),
            });
        }
        let excluded: Vec<&String> = all.iter().filter(|g| !groups.contains(g)).collect();
        let caption = caption(
            report,
            *breakdown,
            eligible,
            (&excluded, &left_out),
            &labels,
        );
        let noun = super::metric_noun(metric);
        let title = format!("Composition by {breakdown} of {noun}");
        let chart = CompositionChart {
            title: super::in_figure_title(report, &title),
            axis: format!("Share of {noun} (%)"),
            legend: groups.iter().map(|g| labels.group_legend(g)).collect(),
            groups,
            bars,
        };
        out.push(Planned::new(
            super::stem(&["composition", breakdown.as_str()]),
            "composition",
            title,
            caption,
            Plot::Composition(chart),
        ));
    }
    out
}

/// The caption: what the bars are, the eligible bar, and the groups left out (as the
/// tests leave them out) with how large they were.
fn caption(
    report: &Report,
    breakdown: Breakdown,
    eligible: Option<&adskew_core::analysis::BreakdownResult>,
    (excluded, left_out): (&[&String], &[f64]),
    labels: &Labels,
) -> String {
    let noun = super::metric_noun(report.analysis.settings.metric);
    let mut caption = format!(
        "Composition by {breakdown} of the {noun} of each ad (the latest since-launch totals{})",
        if report.experiment.design.is_some() {
            ", pooled over the design's partitions"
        } else {
            ""
        }
    );
    if !excluded.is_empty() {
        let names: Vec<String> = excluded.iter().map(|g| labels.group(g)).collect();
        let (lo, hi) = left_out
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
        let size = if (hi - lo).abs() < 0.0005 {
            crate::words::percent(hi)
        } else {
            format!(
                "{} to {}",
                crate::words::percent(lo),
                crate::words::percent(hi)
            )
        };
        caption.push_str(&format!(
            "; shares are of the tested groups, as in the tests and the text: {} ({size} of each ad's {noun}) are left out",
            names.join(" and ")
        ));
    }
    if let Some(b) = eligible {
        caption.push_str(&format!("; the last bar is {}", super::reference_phrase(b)));
    }
    if breakdown == Breakdown::Gender || breakdown == Breakdown::Age {
        caption.push_str(
            "; age and gender are reported as separate breakdowns, so their joint composition is not shown",
        );
    }
    caption.push('.');
    caption
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> &'static RGBColor {
    let luminance = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    if luminance > 140.0 {
        &BLACK
    } else {
        &WHITE
    }
}

impl Draw for CompositionChart {
    fn width(&self) -> Width {
        Width::TwoColumn
    }

    fn height(&self) -> u32 {
        (100 + 20 * self.bars.len().max(2)) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let colours: Vec<RGBColor> = self
            .groups
            .iter()
            .enumerate()
            .map(|(j, g)| group_colour(g, j, self.groups.len()))
            .collect();
        let legend: Vec<LegendItem> = self
            .legend
            .iter()
            .zip(&colours)
            .map(|(g, c)| LegendItem::new(g.clone(), *c, Swatch::Square))
            .collect();
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend).x_title(&self.axis),
        )?;
        // The first bar on top.
        let n = self.bars.len();
        let labels: Vec<String> = self.bars.iter().rev().map(|b| b.label.clone()).collect();
        let mut cc = builder(&plot, pen, 16.0, label_room(&labels))
            .build_cartesian_2d(0.0f64..1.0f64, Categories(n))
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.disable_y_mesh()
            .x_labels(6)
            .x_label_formatter(&percent_tick)
            .y_label_formatter(&|y| category_label(&labels, *y))
            .draw()
            .map_err(err)?;
        let segments: Vec<(f64, f64, f64, usize)> = self
            .bars
            .iter()
            .enumerate()
            .flat_map(|(i, bar)| {
                let y = (n - 1 - i) as f64;
                let mut x = 0.0;
                bar.shares
                    .iter()
                    .enumerate()
                    .map(move |(j, s)| {
                        x += s;
                        (y, x - s, *s, j)
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|(_, _, s, _)| *s > 0.0)
            .collect();
        pen.mark(class::BAR);
        cc.draw_series(segments.iter().map(|(y, x0, s, j)| {
            Rectangle::new([(*x0, y + 0.18), (x0 + s, y + 0.82)], colours[*j].filled())
        }))
        .map_err(err)?;
        pen.mark(class::VALUE);
        cc.draw_series(segments.iter().filter(|(_, _, s, _)| *s >= LABELLED).map(
            |(y, x0, s, j)| {
                Text::new(
                    format!("{:.0}", s * 100.0),
                    (x0 + s / 2.0, y + 0.5),
                    pen.text(TICK_PT, Pos::new(HPos::Center, VPos::Center))
                        .color(ink_on(colours[*j])),
                )
            },
        ))
        .map_err(err)?;
        pen.mark("");
        Ok(())
    }
}
