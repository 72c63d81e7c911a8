//! Cost (`cost`, two columns): per ad, the spend and the cost per 1,000 people reached of
//! each gender, as grouped bars side by side. Where one gender costs more to reach, a
//! delivery optimised for cost reaches fewer of them (Lambrecht & Tucker; Ali et al. 2019).
//!
//! From the latest since-launch totals by gender, which carry the platform's spend per
//! row. Cost per 1,000 reached is spend / reach × 1,000; a group nobody was shown has no
//! bar.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::palette::group_colour;
use super::style::{
    builder, category_label, class, err, frame, label_room, style_mesh, Categories, Draw,
    DrawResult, Layout, LegendItem, Pen, Swatch, Width,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::money::Money;
use adskew_core::vocab::{Breakdown, Gender};

/// What the cost chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CostChart {
    pub title: String,
    pub currency: String,
    pub ads: Vec<String>,
    pub groups: Vec<String>,
    /// The groups' legend labels.
    pub legend: Vec<String>,
    /// Per ad, per group: spend in major units.
    pub spend: Vec<Vec<f64>>,
    /// Per ad, per group: cost per 1,000 people reached (none if nobody was reached).
    pub per_thousand: Vec<Vec<Option<f64>>>,
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let Some(rows) = report.totals.get(&Breakdown::Gender) else {
        return Vec::new();
    };
    let mut groups: Vec<String> = rows.iter().map(|r| r.value.clone()).collect();
    groups.sort_by_key(|g| {
        (
            Gender::parse(g).map_or(usize::MAX, |x| x as usize),
            g.clone(),
        )
    });
    groups.dedup();
    let mut ads = Vec::new();
    let mut spend: Vec<Vec<f64>> = Vec::new();
    let mut per_thousand = Vec::new();
    for ad in &report.experiment.ads {
        let of = |g: &str| {
            rows.iter()
                .filter(|r| r.ad_key == ad.key && r.value == g)
                .fold((Money::ZERO, 0u64), |(m, n), r| (m + r.spend, n + r.reach))
        };
        let cells: Vec<(Money, u64)> = groups.iter().map(|g| of(g)).collect();
        if cells.iter().all(|(m, n)| *m == Money::ZERO && *n == 0) {
            continue;
        }
        ads.push(Labels::of(&report.experiment).ad(&ad.key));
        spend.push(cells.iter().map(|(m, _)| m.as_major()).collect());
        per_thousand.push(
            cells
                .iter()
                .map(|(m, n)| (*n > 0).then(|| m.as_major() / *n as f64 * 1000.0))
                .collect(),
        );
    }
    if ads.is_empty() || spend.iter().flatten().all(|s| *s == 0.0) {
        return Vec::new();
    }
    let currency = report.experiment.currency.clone();
    let title = "Spend and cost per 1,000 people reached, by gender".to_string();
    let caption = format!(
        "Spend ({currency}) and cost per 1,000 people reached ({currency}) of each gender for each ad, from the platform's spend by gender in the latest since-launch totals{}{}.",
        if report.experiment.design.is_some() {
            ", pooled over the design's partitions"
        } else {
            ""
        },
        if groups.iter().any(|g| g == "unknown") {
            "; people of unknown gender are shown separately, as the platform bills them"
        } else {
            ""
        }
    );
    let labels = Labels::of(&report.experiment);
    let chart = CostChart {
        title: super::in_figure_title(report, &title),
        currency,
        ads,
        legend: groups.iter().map(|g| labels.group_legend(g)).collect(),
        groups,
        spend,
        per_thousand,
    };
    vec![Planned::new(
        super::stem(&["cost", "gender"]),
        "cost",
        title,
        caption,
        Plot::Cost(chart),
    )]
}

/// A round upper end for an axis holding `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    let m = max / step;
    let top = [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .find(|t| *t >= m * 1.05)
        .unwrap_or(10.0);
    top * step
}

impl CostChart {
    /// One panel: per ad (first on top) a bar per group.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        pen: &Pen,
        values: &[Vec<Option<f64>>],
        axis: &str,
        label_room: f64,
    ) -> DrawResult {
        let n = self.ads.len();
        let labels: Vec<String> = self.ads.iter().rev().cloned().collect();
        let max = values
            .iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |a, v| a.max(*v));
        let mut cc = builder(area, pen, 30.0, label_room)
            .build_cartesian_2d(0.0f64..nice_max(max), Categories(n))
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.disable_y_mesh()
            .x_labels(5)
            .x_label_formatter(&|x| format!("{x}"))
            .y_label_formatter(&|y| {
                if label_room > 0.0 {
                    category_label(&labels, *y)
                } else {
                    String::new()
                }
            })
            .x_desc(axis)
            .draw()
            .map_err(err)?;
        let m = self.groups.len().max(1) as f64;
        let band = 0.76 / m;
        pen.mark(class::BAR);
        cc.draw_series(values.iter().enumerate().flat_map(|(i, row)| {
            let y = (n - 1 - i) as f64;
            row.iter().enumerate().filter_map(move |(j, v)| {
                // The first group on top within the ad's band.
                let top = y + 0.88 - band * j as f64;
                v.map(|v| {
                    Rectangle::new(
                        [(0.0, top - band * 0.9), (v, top)],
                        group_colour(&self.groups[j], j, self.groups.len()).filled(),
                    )
                })
            })
        }))
        .map_err(err)?;
        pen.mark("");
        Ok(())
    }
}

impl Draw for CostChart {
    fn width(&self) -> Width {
        Width::TwoColumn
    }

    fn height(&self) -> u32 {
        let per_ad = 8 + 9 * self.groups.len().max(1);
        (100 + per_ad * self.ads.len().max(2)) as u32
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let legend: Vec<LegendItem> = self
            .groups
            .iter()
            .zip(&self.legend)
            .enumerate()
            .map(|(j, (g, label))| {
                LegendItem::new(
                    label.clone(),
                    group_colour(g, j, self.groups.len()),
                    Swatch::Square,
                )
            })
            .collect();
        let plot = frame(area, pen, &Layout::new(&self.title, &legend))?;
        // The left panel carries the ad names; both plots get the same width.
        let room = label_room(&self.ads);
        let (w, _) = plot.dim_in_pixel();
        let left_w = pen.px(room) as i32 + (w as i32 - pen.px(room) as i32) / 2;
        let (left, right) = plot.split_horizontally(left_w);
        let spend: Vec<Vec<Option<f64>>> = self
            .spend
            .iter()
            .map(|r| r.iter().map(|v| Some(*v)).collect())
            .collect();
        self.panel(
            &left,
            pen,
            &spend,
            &format!("Spend ({})", self.currency),
            room,
        )?;
        self.panel(
            &right,
            pen,
            &self.per_thousand,
            &format!("Cost per 1,000 people reached ({})", self.currency),
            0.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(47.0), 50.0);
        assert_eq!(nice_max(3.1), 4.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(95.0), 100.0);
    }
}
