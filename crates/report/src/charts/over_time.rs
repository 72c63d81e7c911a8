//! Over time (`over-time`, two columns): each ad's cumulative share of a group since
//! launch, at every collection (x: days since the ads were switched on; y: the group's
//! share of the since-launch total as that collection read it). Does the skew appear from
//! the first impressions, or build up as the platform learns?
//!
//! From the store's history of since-launch totals; a design's partitions are pooled per
//! collection (and race read off the regions) exactly as the analysis does for the latest
//! totals, so the last point of each line is the share the tests used.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    class, err, frame, share_against_number, Draw, DrawResult, Layout, LegendItem, Pen, Swatch,
    Width, CYCLE,
};
use super::{Planned, Plot, Report};
use adskew_core::analysis::design;
use adskew_core::vocab::{Breakdown, Metric};
use adskew_store::StoredRow;

/// One ad's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// (days since launch, share).
    pub points: Vec<(f64, f64)>,
}

/// What one over-time chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct OverTimeChart {
    pub title: String,
    pub axis: String,
    pub x_axis: String,
    pub series: Vec<Series>,
    pub reference: Option<f64>,
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The since-launch rows of `breakdown` at each collection, in collection order, pooled
/// over a design's partitions (race from the region rows in a mirrored design).
fn snapshots(report: &Report, breakdown: Breakdown) -> Vec<(i64, Vec<StoredRow>)> {
    let source = if breakdown == Breakdown::Race {
        Breakdown::Region
    } else {
        breakdown
    };
    let mut by_collection: BTreeMap<i64, Vec<StoredRow>> = BTreeMap::new();
    for (id, row) in report.history.get(&source).map_or(&[][..], |v| v) {
        by_collection.entry(*id).or_default().push(row.clone());
    }
    by_collection
        .into_iter()
        .map(|(id, rows)| {
            let rows = match &report.experiment.design {
                Some(d) if breakdown == Breakdown::Race => {
                    design::pool(&design::race_rows(d, &rows))
                }
                Some(_) => design::pool(&rows),
                None => rows,
            };
            (id, rows)
        })
        .collect()
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let launch = a.experiment.started_at.as_deref().and_then(parse);
    let times: BTreeMap<i64, DateTime<Utc>> = report
        .collections
        .iter()
        .filter_map(|c| Some((c.id, parse(&c.platform_time)?)))
        .collect();
    // Without a recorded activation, time counts from the first collection.
    let Some(zero) = launch.or_else(|| times.values().next().copied()) else {
        return Vec::new();
    };
    let x_axis = if launch.is_some() {
        "Days since launch"
    } else {
        "Days since the first collection"
    };
    let mut out = Vec::new();
    for c in &a.comparisons {
        for (b, group) in super::targets(c) {
            let snaps = snapshots(report, b.breakdown);
            let series: Vec<Series> = c
                .ads
                .iter()
                .map(|ad| Series {
                    label: ad.clone(),
                    points: snaps
                        .iter()
                        .filter_map(|(id, rows)| {
                            let t = times.get(id)?;
                            let count = |g: &str| -> u64 {
                                rows.iter()
                                    .filter(|r| r.ad_key == *ad && r.value == g)
                                    .map(|r| match b.metric {
                                        Metric::Impressions => r.impressions,
                                        _ => r.reach,
                                    })
                                    .fold(0, u64::saturating_add)
                            };
                            // The denominator of the analysis' shares: the tested groups.
                            let total = b
                                .groups
                                .iter()
                                .map(|g| count(g))
                                .fold(0, u64::saturating_add);
                            (total > 0).then(|| {
                                (
                                    (*t - zero).num_seconds() as f64 / 86_400.0,
                                    count(&group) as f64 / total as f64,
                                )
                            })
                        })
                        .collect(),
                })
                .collect();
            if series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            let reference = super::reference_share(b, &group);
            let title = format!(
                "{}: share of {} since launch",
                c.key,
                crate::words::group_label(&group)
            );
            let caption = format!(
                "The cumulative {} since launch for each ad of comparison {}, at each of the {} collections",
                super::share_phrase(b.metric, &group),
                c.key,
                snaps.len()
            );
            let caption = super::end_caption(caption, b, reference);
            out.push(Planned {
                stem: super::stem(&[&c.key, "over-time", b.breakdown.as_str(), &group]),
                kind: "over-time",
                title: title.clone(),
                caption,
                plot: Plot::OverTime(OverTimeChart {
                    title,
                    axis: super::share_axis(b.metric, &group),
                    x_axis: x_axis.to_string(),
                    series,
                    reference,
                }),
            });
        }
    }
    out
}

impl Draw for OverTimeChart {
    fn width(&self) -> Width {
        Width::TwoColumn
    }

    fn height(&self) -> u32 {
        300
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let colour = |i: usize| CYCLE[i % CYCLE.len()];
        let mut legend: Vec<LegendItem> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendItem::new(s.label.clone(), colour(i), Swatch::LineDot))
            .collect();
        if let Some(r) = self.reference {
            legend.push(LegendItem::eligible(r));
        }
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend)
                .x_title(&self.x_axis)
                .y_title(&self.axis),
        )?;
        let last = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(0.0f64, f64::max);
        let x_max = if last > 0.0 { last * 1.04 } else { 1.0 };
        let mut cc = share_against_number(&plot, pen, 0.0..x_max, 0.0..1.0, self.reference)?;
        for (i, s) in self.series.iter().enumerate() {
            pen.mark(class::LINE);
            cc.draw_series(std::iter::once(PathElement::new(
                s.points.clone(),
                pen.stroke(colour(i), 1.2),
            )))
            .map_err(err)?;
            pen.mark(class::POINT);
            cc.draw_series(
                s.points
                    .iter()
                    .map(|p| Circle::new(*p, pen.px(2.5), colour(i).filled())),
            )
            .map_err(err)?;
        }
        pen.mark("");
        Ok(())
    }
}
