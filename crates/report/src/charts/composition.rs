//! Composition (`composition`, two columns): each ad's whole delivered composition by one
//! breakdown as a stacked bar (gender with unknown, age buckets, regions, race in mirrored
//! designs), with the eligible audience's as a last bar where it is known.
//!
//! Platforms report age and gender as separate breakdowns here (adskew collects each on
//! its own), so there is one figure per breakdown and no age × gender figure.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    builder, category_label, class, err, frame, group_colour, label_room, percent_tick, style_mesh,
    Categories, Draw, DrawResult, Layout, LegendItem, Pen, Swatch, Width, TICK_PT,
};
use super::{Planned, Plot, Report};
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
    let metric = a.settings.metric;
    let mut out = Vec::new();
    for (breakdown, rows) in &report.totals {
        let mut groups: Vec<String> = rows.iter().map(|r| r.value.clone()).collect();
        groups.sort_by_key(|g| order(*breakdown, g));
        groups.dedup();
        if groups.len() < 2 {
            continue;
        }
        let count = |r: &adskew_store::StoredRow| match metric {
            Metric::Impressions => r.impressions,
            _ => r.reach,
        };
        let mut bars: Vec<Bar> = report
            .experiment
            .ads
            .iter()
            .filter_map(|ad| {
                let counts: Vec<u64> = groups
                    .iter()
                    .map(|g| {
                        rows.iter()
                            .filter(|r| r.ad_key == ad.key && r.value == *g)
                            .map(count)
                            .fold(0, u64::saturating_add)
                    })
                    .collect();
                let total = counts.iter().copied().fold(0, u64::saturating_add);
                (total > 0).then(|| Bar {
                    label: ad.key.clone(),
                    shares: counts.iter().map(|c| *c as f64 / total as f64).collect(),
                })
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        // The reference: any comparison's expected shares for this breakdown (over the
        // tested groups; an untested group such as unknown gender gets none).
        let eligible = a
            .comparisons
            .iter()
            .flat_map(|c| &c.breakdowns)
            .find(|b| b.breakdown == *breakdown && !b.eligible.is_empty());
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
        let noun = super::metric_noun(metric);
        let title = format!("Composition by {breakdown} of {noun}");
        let mut caption = format!(
            "Composition by {breakdown} of the {noun} of each ad (the latest since-launch totals{})",
            if report.experiment.design.is_some() {
                ", pooled over the design's partitions"
            } else {
                ""
            }
        );
        if let Some(b) = eligible {
            caption.push_str(&format!("; the last bar is {}", super::reference_phrase(b)));
        }
        if *breakdown == Breakdown::Gender || *breakdown == Breakdown::Age {
            caption.push_str(
                "; age and gender are reported as separate breakdowns, so their joint composition is not shown",
            );
        }
        caption.push('.');
        out.push(Planned {
            stem: super::stem(&["composition", breakdown.as_str()]),
            kind: "composition",
            title: title.clone(),
            caption,
            plot: Plot::Composition(CompositionChart {
                title,
                axis: format!("Share of {noun} (%)"),
                groups,
                bars,
            }),
        });
    }
    out
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
            .map(|(j, g)| group_colour(g, j))
            .collect();
        let legend: Vec<LegendItem> = self
            .groups
            .iter()
            .zip(&colours)
            .map(|(g, c)| LegendItem::new(super::legend_label(g), *c, Swatch::Square))
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
