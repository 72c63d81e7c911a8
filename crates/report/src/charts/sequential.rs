//! Confidence sequence over time (`sequential`, two columns): for a two-ad comparison, the
//! difference of its group's share between the two ads at every collection, with the
//! anytime-valid confidence sequence drawn as a band (issue 18). Unlike a confidence
//! interval recomputed every night, the band covers the true difference at every look at
//! once, so reading it every night (and stopping when it leaves zero out) keeps its level.
//!
//! Draws only what the store holds: the looks computed and stored with each collection
//! (`analysis::sequential`), nothing recomputed. Each is drawn at the end of the settled
//! period it was computed on, which trails its collection by the revision window.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette::{tint, FIT};
use super::style::{
    builder, class, err, frame, signed, style_mesh, Draw, DrawResult, Layout, LegendItem, Pen,
    Swatch, Width, GREY,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::analysis::sequential::SequentialSettings;

/// One look: (days since launch, estimate, lower, upper), bounds within [−1, 1].
pub type Point = (f64, f64, f64, f64);

/// What one confidence-sequence chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceChart {
    pub title: String,
    pub axis: String,
    pub x_axis: String,
    pub points: Vec<Point>,
    /// "95% confidence sequence", for the legend.
    pub band: String,
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Each (comparison, group, ads) pair's looks as points, in collection order, each at the
/// end of the settled period it was computed on (a look trails its collection by the
/// revision window, docs/sequential.md).
fn series(
    report: &Report,
    zero: DateTime<Utc>,
) -> BTreeMap<(String, String, String, String), Vec<Point>> {
    let mut out: BTreeMap<_, Vec<Point>> = BTreeMap::new();
    for c in &report.looks {
        let days = (c.as_of - zero).num_seconds() as f64 / 86_400.0;
        for l in &c.looks {
            let Some(p) = &l.pair else { continue };
            let (lo, hi) = p.difference.clipped();
            let key = (
                l.comparison.clone(),
                p.group.clone(),
                p.ad1.clone(),
                p.ad2.clone(),
            );
            out.entry(key)
                .or_default()
                .push((days, p.difference.estimate, lo, hi));
        }
    }
    out
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let first = report
        .collections
        .first()
        .and_then(|c| parse(&c.platform_time));
    let Some(zero) = a.experiment.started_at.as_deref().and_then(parse).or(first) else {
        return Vec::new();
    };
    let labels = Labels::of(&report.experiment);
    let settings = SequentialSettings::of(&report.experiment);
    let alpha = settings.alpha;
    let counts = match settings.revision_bound {
        None => "each on the counts settled by then (the platform's revision window before \
                 its collection)"
            .to_string(),
        Some(b) => format!(
            "each on the counts read at its collection, widened for revisions of up to ±{:.0}% \
             of those the platform has not settled (the bound the experiment declares)",
            b * 100.0
        ),
    };
    let level = format!("{}%", crate::words::level_percent(1.0 - alpha));
    series(report, zero)
        .into_iter()
        .map(|((cmp, group, ad1, ad2), points)| {
            let name = labels.comparison(&cmp);
            let (one, two) = (labels.ad(&ad1), labels.ad(&ad2));
            let share = super::share_phrase(&labels, a.settings.metric, &group);
            let title = format!(
                "{name}: difference in the share of {}, {one} − {two}",
                labels.group(&group)
            );
            let caption = format!(
                "The difference in the {share} between {one} and {two} (comparison {name}) \
                 at each of {} looks, {counts}, with its {level} anytime-valid confidence sequence \
                 (docs/sequential.md): the band covers the true difference at every look at once, so it \
                 is valid under continuous monitoring and may be read, and the run stopped, at \
                 any collection.",
                points.len()
            );
            let chart = SequenceChart {
                title: super::in_figure_title(report, &title),
                axis: format!(
                    "Difference in the share of {} (percentage points)",
                    labels.group(&group)
                ),
                x_axis: "Days since launch".to_string(),
                points,
                band: format!("{level} confidence sequence"),
            };
            Planned::new(
                super::stem(&[&cmp, "sequential", &group]),
                "sequential",
                title,
                caption,
                Plot::Sequential(chart),
            )
        })
        .collect()
}

impl SequenceChart {
    /// The vertical range: every bound and zero, with a margin.
    fn y_range(&self) -> std::ops::Range<f64> {
        let lo = self.points.iter().map(|p| p.2).fold(0.0f64, f64::min);
        let hi = self.points.iter().map(|p| p.3).fold(0.0f64, f64::max);
        let pad = ((hi - lo) * 0.08).max(0.005);
        (lo - pad)..(hi + pad)
    }
}

impl Draw for SequenceChart {
    fn width(&self) -> Width {
        Width::TwoColumn
    }

    fn height(&self) -> u32 {
        300
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let legend = [
            LegendItem::new("Difference", FIT, Swatch::LineDot),
            LegendItem::new(self.band.clone(), tint(FIT, 0.2), Swatch::Square),
        ];
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend)
                .x_title(&self.x_axis)
                .y_title(&self.axis),
        )?;
        let last = self.points.iter().map(|p| p.0).fold(0.0f64, f64::max);
        let x_max = if last > 0.0 { last * 1.04 } else { 1.0 };
        let mut cc = builder(&plot, pen, 16.0, 30.0)
            .build_cartesian_2d(0.0..x_max, self.y_range())
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.x_labels(7)
            .x_label_formatter(&|x| format!("{x}"))
            .y_labels(6)
            .y_label_formatter(&|y| signed(y * 100.0, 0))
            .draw()
            .map_err(err)?;
        pen.mark(class::BAND);
        let band: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| (p.0, p.3))
            .chain(self.points.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        cc.draw_series(std::iter::once(Polygon::new(band, tint(FIT, 0.2).filled())))
            .map_err(err)?;
        pen.mark(class::REFERENCE);
        cc.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (x_max, 0.0)],
            pen.stroke(GREY, 0.8),
        )))
        .map_err(err)?;
        pen.mark(class::LINE);
        let line: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0, p.1)).collect();
        cc.draw_series(std::iter::once(PathElement::new(
            line.clone(),
            pen.stroke(FIT, 1.2),
        )))
        .map_err(err)?;
        pen.mark(class::POINT);
        cc.draw_series(
            line.iter()
                .map(|p| Circle::new(*p, pen.px(2.5), FIT.filled())),
        )
        .map_err(err)?;
        pen.mark("");
        Ok(())
    }
}
