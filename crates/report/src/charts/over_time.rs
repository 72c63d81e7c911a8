//! Over time (`over-time`, two columns): each ad's cumulative share of a group since
//! launch, at every collection of the schedule (x: days since the ads were switched on;
//! y: the group's share of the since-launch total as that collection read it), with its
//! confidence band and a dotted line at the schedule's end. Does the skew appear from the
//! first impressions, or build up as the platform learns?
//!
//! The line stops at the schedule's end: the re-collection days later reads the same
//! delivery with the platform's late revisions, so joining it to the line would draw
//! delivery that did not happen (its shares are the tables'; the caption says so). One
//! collection (a one-snapshot import) draws points with intervals.
//!
//! From the store's history of since-launch totals; a design's partitions are pooled per
//! collection (and race read off the regions) exactly as the analysis does for the latest
//! totals, so the last point of each line is the share the tests used.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::tint;
use super::style::{
    class, draw_estimates, err, frame, share_against_number, share_range, Draw, DrawResult,
    Estimate, Layout, LegendItem, Orient, Pen, Swatch, Width, GREY, NOTE_PT,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::analysis::ci::Interval;
use adskew_core::analysis::{design, BreakdownResult};
use adskew_core::vocab::{Breakdown, Metric};
use adskew_store::StoredRow;

/// One collection's reading of an ad: its cumulative share and interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Days since launch (or since the first collection).
    pub day: f64,
    pub share: f64,
    pub low: f64,
    pub high: f64,
}

/// One ad's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub colour: RGBColor,
    pub points: Vec<Reading>,
}

/// What one over-time chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct OverTimeChart {
    pub title: String,
    pub axis: String,
    pub x_axis: String,
    pub series: Vec<Series>,
    pub reference: Option<f64>,
    /// The schedule's end in days, when the launch is known.
    pub end: Option<f64>,
    /// The share axis' range.
    pub range: std::ops::Range<f64>,
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

/// Where time counts from, and the x axis' name for it.
struct Clock {
    zero: DateTime<Utc>,
    /// The schedule's end, in days, when the launch is known.
    end: Option<f64>,
    /// Collections after this day are the re-collection (half-way to it: a final
    /// collection made late, by a nightly cron job, still belongs to the schedule).
    cutoff: f64,
    since: &'static str,
}

fn clock(report: &Report, times: &BTreeMap<i64, DateTime<Utc>>) -> Option<Clock> {
    let launch = report
        .analysis
        .experiment
        .started_at
        .as_deref()
        .and_then(parse);
    let schedule = &report.experiment.schedule;
    let days = |d: chrono::TimeDelta| d.num_seconds() as f64 / 86_400.0;
    match launch {
        Some(zero) => Some(Clock {
            zero,
            end: Some(days(schedule.duration)),
            cutoff: match days(schedule.recollect_after) {
                r if r > 0.0 => days(schedule.duration) + r / 2.0,
                _ => f64::INFINITY,
            },
            since: "launch",
        }),
        // Without a recorded activation (an import), time counts from the first
        // collection and every collection is drawn.
        None => Some(Clock {
            zero: times.values().next().copied()?,
            end: None,
            cutoff: f64::INFINITY,
            since: "the first collection",
        }),
    }
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let labels = Labels::of(&report.experiment);
    let times: BTreeMap<i64, DateTime<Utc>> = report
        .collections
        .iter()
        .filter_map(|c| Some((c.id, parse(&c.platform_time)?)))
        .collect();
    let Some(clock) = clock(report, &times) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in &a.comparisons {
        for (b, group) in super::targets(c) {
            let snaps = snapshots(report, b.breakdown);
            let day =
                |id: &i64| Some((*times.get(id)? - clock.zero).num_seconds() as f64 / 86_400.0);
            // The re-collection after the end is not part of the line.
            let within = |id: &i64| day(id).is_some_and(|d| d <= clock.cutoff);
            let shown: Vec<&(i64, Vec<StoredRow>)> =
                snaps.iter().filter(|(id, _)| within(id)).collect();
            let series: Vec<Series> = c
                .ads
                .iter()
                .map(|ad| Series {
                    label: labels.ad(ad),
                    colour: super::palette::ad_colour(&report.experiment, ad),
                    points: shown
                        .iter()
                        .filter_map(|(id, rows)| reading(report, b, &group, ad, rows, day(id)?))
                        .collect(),
                })
                .collect();
            if series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            out.push(planned(
                report,
                c,
                (b, &group),
                series,
                &clock,
                (shown.len(), snaps.len()),
            ));
        }
    }
    out
}

/// Ad `ad`'s share of `group` in one collection's rows, over the tested groups (the
/// analysis' denominator), with the analysis' interval.
fn reading(
    report: &Report,
    b: &BreakdownResult,
    group: &str,
    ad: &str,
    rows: &[StoredRow],
    day: f64,
) -> Option<Reading> {
    let count = |g: &str| -> u64 {
        rows.iter()
            .filter(|r| r.ad_key == ad && r.value == g)
            .map(|r| match b.metric {
                Metric::Impressions => r.impressions,
                _ => r.reach,
            })
            .fold(0, u64::saturating_add)
    };
    let total = b
        .groups
        .iter()
        .map(|g| count(g))
        .fold(0, u64::saturating_add);
    if total == 0 {
        return None;
    }
    let x = count(group);
    let s = &report.analysis.settings;
    let ci = Interval::proportion(x, total, s.ci_level, s.ci);
    Some(Reading {
        day,
        share: x as f64 / total as f64,
        low: ci.low,
        high: ci.high,
    })
}

fn planned(
    report: &Report,
    c: &adskew_core::analysis::ComparisonResult,
    (b, group): (&BreakdownResult, &str),
    series: Vec<Series>,
    clock: &Clock,
    (shown, all): (usize, usize),
) -> Planned {
    let labels = Labels::of(&report.experiment);
    let reference = super::reference_share(b, group);
    let range = share_range(
        series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [p.low, p.high, p.share]))
            .chain(reference),
        report.experiment.figures.axis,
    );
    let name = labels.comparison(&c.key);
    let since = clock.since;
    let title = format!("{name}: share of {} since {since}", labels.group(group));
    let mut caption = format!(
        "The cumulative {} since {since} for each ad of comparison {name}, at each of the {} collections{}, with {} (shaded)",
        super::share_phrase(&labels, b.metric, group),
        shown,
        if clock.end.is_some() { " of the schedule" } else { "" },
        crate::words::ci_intervals(&report.analysis.settings),
    );
    if clock.end.is_some() {
        caption.push_str("; the dotted line marks the end of the schedule");
    }
    match all - shown {
        0 => {}
        1 => caption
            .push_str("; the re-collection after the end, which the tables use, is not drawn"),
        n => caption.push_str(&format!(
            "; the {n} re-collections after the end, the last of which the tables use, are not drawn"
        )),
    }
    let caption = super::end_caption(caption, b, reference);
    let chart = OverTimeChart {
        title: super::in_figure_title(report, &title),
        axis: super::share_axis(&labels, b.metric, group),
        x_axis: format!("Days since {since}"),
        series,
        reference,
        end: clock.end,
        range,
    };
    Planned::new(
        super::stem(&[&c.key, "over-time", b.breakdown.as_str(), group]),
        "over-time",
        title,
        caption,
        Plot::OverTime(chart),
    )
}

impl Draw for OverTimeChart {
    fn width(&self) -> Width {
        Width::TwoColumn
    }

    fn height(&self) -> u32 {
        300
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let mut legend: Vec<LegendItem> = self
            .series
            .iter()
            .map(|s| LegendItem::new(s.label.clone(), s.colour, Swatch::LineDot))
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
        let (lo, hi) = self.x_span();
        let pad = (hi - lo) * 0.03;
        let mut cc = share_against_number(
            &plot,
            pen,
            lo - pad..hi + pad,
            self.range.clone(),
            self.reference,
        )?;
        // Every band first, so that no band hides another ad's line.
        for s in self.series.iter().filter(|s| s.points.len() > 1) {
            draw_band(&mut cc, pen, s)?;
        }
        for s in &self.series {
            self.draw_series(&mut cc, pen, s)?;
        }
        if let Some(end) = self.end {
            pen.mark(class::END);
            let top = self.range.end;
            cc.draw_series([DashedPathElement::new(
                vec![(end, self.range.start), (end, top)],
                pen.px(1.5),
                pen.px(2.0),
                pen.stroke(GREY, 0.9),
            )])
            .map_err(err)?;
            cc.draw_series([EmptyElement::at((end, top))
                + Text::new(
                    "end of schedule".to_string(),
                    (-pen.offset(3.0), pen.offset(6.0)),
                    pen.text(NOTE_PT, Pos::new(HPos::Right, VPos::Center)),
                )])
            .map_err(err)?;
        }
        pen.mark("");
        Ok(())
    }
}

impl OverTimeChart {
    /// The days shown: from launch (0) to the schedule's end, or over the collections.
    fn x_span(&self) -> (f64, f64) {
        let days = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.day));
        let (first, last) = days.fold((0.0f64, 0.0f64), |(a, b), d| (a.min(d), b.max(d)));
        let last = self.end.map_or(last, |e| e.max(last));
        if last - first > 0.0 {
            (first, last)
        } else {
            (first - 0.5, first + 0.5)
        }
    }

    /// One ad: its line and points, or its one point with its interval.
    fn draw_series<DB: DrawingBackend>(
        &self,
        cc: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        pen: &Pen,
        s: &Series,
    ) -> DrawResult {
        if s.points.len() > 1 {
            pen.mark(class::LINE);
            cc.draw_series([PathElement::new(
                s.points
                    .iter()
                    .map(|p| (p.day, p.share))
                    .collect::<Vec<_>>(),
                pen.stroke(s.colour, 1.2),
            )])
            .map_err(err)?;
            pen.mark(class::POINT);
            cc.draw_series(
                s.points
                    .iter()
                    .map(|p| Circle::new((p.day, p.share), pen.px(2.0), s.colour.filled())),
            )
            .map_err(err)?;
        } else {
            // One collection: a point with its interval, nothing to join.
            let estimates: Vec<Estimate> = s
                .points
                .iter()
                .map(|p| Estimate {
                    at: p.day,
                    value: p.share,
                    low: p.low,
                    high: p.high,
                    colour: s.colour,
                })
                .collect();
            draw_estimates(cc, pen, &estimates, Orient::Vertical)?;
        }
        pen.mark("");
        Ok(())
    }
}

/// An ad's confidence band (class `band`), under every line.
fn draw_band<DB: DrawingBackend>(
    cc: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    pen: &Pen,
    s: &Series,
) -> DrawResult {
    let band: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|p| (p.day, p.high))
        .chain(s.points.iter().rev().map(|p| (p.day, p.low)))
        .collect();
    pen.mark(class::BAND);
    cc.draw_series([Polygon::new(band, tint(s.colour, 0.2).filled())])
        .map_err(err)?;
    pen.mark("");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::palette::AD_COLOURS;
    use crate::charts::style::render_svg;

    fn chart(days: &[f64]) -> OverTimeChart {
        let series = |i: usize, share: f64| Series {
            label: format!("ad {i}"),
            colour: AD_COLOURS[i],
            points: days
                .iter()
                .map(|d| Reading {
                    day: *d,
                    share,
                    low: share - 0.02,
                    high: share + 0.02,
                })
                .collect(),
        };
        OverTimeChart {
            title: String::new(),
            axis: "Share (%)".into(),
            x_axis: "Days since the first collection".into(),
            series: vec![series(0, 0.4), series(1, 0.6)],
            reference: None,
            end: None,
            range: 0.3..0.7,
        }
    }

    #[test]
    fn one_collection_draws_points_with_intervals_not_an_empty_chart() {
        let svg = render_svg(&chart(&[0.0])).unwrap();
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 2);
        assert_eq!(svg.matches("<polyline class=\"ci\"").count(), 6);
        assert_eq!(svg.matches("<polyline class=\"line\"").count(), 0);
    }

    #[test]
    fn several_collections_draw_a_band_a_line_and_points_per_ad() {
        let svg = render_svg(&chart(&[0.0, 0.6000000000000001, 1.2])).unwrap();
        assert_eq!(svg.matches("<polygon class=\"band\"").count(), 2);
        assert_eq!(svg.matches("<polyline class=\"line\"").count(), 2);
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 6);
        assert!(!svg.contains("0000000"), "no float noise in the ticks");
        // Both bands under both lines.
        assert!(svg.rfind("class=\"band\"").unwrap() < svg.find("class=\"line\"").unwrap());
    }

    #[test]
    fn bands_are_opaque_tints() {
        assert_eq!(tint(RGBColor(0, 100, 200), 0.2), RGBColor(204, 224, 244));
    }
}
