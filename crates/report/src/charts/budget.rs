//! Budget sweep (`budget`, one column): for a comparison that varies the budget
//! (`vary = ["budget"]`), each ad's share of a group against its budget on a log axis,
//! with CI bars, the least-squares line in log budget and Pearson's r — Ali et al. 2019
//! §4.1 (fig. 2), who plot the budget on a log scale and found the share of men falling
//! as the daily budget rose.
//!
//! The line and r are descriptive: they summarise the points drawn against log10 of the
//! budget (the axis they are drawn on, where a sweep of doubling budgets is evenly
//! spaced and the curve of the shares straightens), unweighted. [`least_squares`]
//! computes both; the caption says the fit is in log budget.

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

use super::palette::FIT;
use super::style::{
    builder, class, draw_estimates, draw_reference, err, frame, hidden_intervals, hidden_note,
    number_tick, percent_tick, share_range, signed, style_mesh, Draw, DrawResult, Estimate, Layout,
    LegendItem, Orient, Pen, Swatch, Width,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use adskew_core::experiment::Budget;

/// A least-squares line `y = intercept + slope · x` and Pearson's correlation of the points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    /// NaN when every `y` is the same.
    pub r: f64,
}

/// Ordinary least squares of `ys` on `xs`, and Pearson's r. `None` with fewer than two
/// points or when every `x` is the same (no line to fit).
pub fn least_squares(xs: &[f64], ys: &[f64]) -> Option<Fit> {
    let n = xs.len().min(ys.len());
    if n < 2 {
        return None;
    }
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(xs), mean(ys));
    // Centred sums: stable where the raw-sums formula cancels.
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(Fit {
        n,
        slope,
        intercept: my - slope * mx,
        r: if syy > 0.0 {
            sxy / (sxx * syy).sqrt()
        } else {
            f64::NAN
        },
    })
}

/// What one budget chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetChart {
    pub title: String,
    pub axis: String,
    pub x_axis: String,
    /// `at` is the budget in major units.
    pub points: Vec<Estimate>,
    /// The fit of the share on log10 of the budget.
    pub fit: Option<Fit>,
    pub reference: Option<f64>,
    /// "Pearson r = 0.93; 4.2 points per 10× budget" (r and slope in log budget).
    pub note: String,
    pub ci: String,
    /// The share axis' range.
    pub range: std::ops::Range<f64>,
}

/// A logarithmic budget axis from `0.lo` to `.hi`, ticks at 1, 2 and 5 times powers of
/// ten (labelled "1", "2", "5", "10", …).
#[derive(Debug, Clone, Copy)]
pub struct LogAxis {
    pub lo: f64,
    pub hi: f64,
}

impl LogAxis {
    /// Room around `min..max` (both positive): a fifth of a decade each side.
    pub fn around(min: f64, max: f64) -> LogAxis {
        let pad = 10f64.powf(0.2);
        LogAxis {
            lo: min / pad,
            hi: max * pad,
        }
    }

    /// The ticks inside the axis: 1, 2, 5 × 10^k.
    pub fn ticks(&self) -> Vec<f64> {
        let mut out = Vec::new();
        let mut k = self.lo.log10().floor() as i32;
        while 10f64.powi(k) <= self.hi {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(k);
                if v >= self.lo && v <= self.hi {
                    out.push(v);
                }
            }
            k += 1;
        }
        out
    }
}

impl Ranged for LogAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10());
        limit.0 + ((limit.1 - limit.0) as f64 * share).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let exp = &report.experiment;
    let labels = Labels::of(exp);
    let mut out = Vec::new();
    let varies_budget = |key: &str| {
        exp.comparisons
            .iter()
            .any(|s| s.key == key && s.vary.iter().any(|v| v == "budget"))
    };
    for c in a.comparisons.iter().filter(|c| varies_budget(&c.key)) {
        // Daily or lifetime, but one kind: the x axis has one meaning.
        let budgets: Vec<Budget> = c
            .ads
            .iter()
            .filter_map(|k| exp.ad(k).map(|ad| ad.budget))
            .collect();
        let kind = match budgets.first() {
            Some(Budget::Daily(_)) if budgets.iter().all(|b| matches!(b, Budget::Daily(_))) => {
                "Daily"
            }
            Some(Budget::Lifetime(_))
                if budgets.iter().all(|b| matches!(b, Budget::Lifetime(_))) =>
            {
                "Lifetime"
            }
            _ => continue,
        };
        for (b, group) in super::targets(c).into_iter().take(1) {
            let points: Vec<Estimate> = super::shares_of(b, &group)
                .into_iter()
                .zip(&budgets)
                .filter(|(s, _)| s.share.is_finite())
                .map(|(s, budget)| Estimate {
                    at: match budget {
                        Budget::Daily(m) | Budget::Lifetime(m) => m.as_major(),
                    },
                    value: s.share,
                    low: s.ci.low,
                    high: s.ci.high,
                    colour: super::palette::ad_colour(exp, &s.ad),
                })
                .collect();
            if points.len() < 2 {
                continue;
            }
            // A log axis needs positive budgets (validation requires them).
            if points.iter().any(|p| p.at <= 0.0) {
                continue;
            }
            let xs: Vec<f64> = points.iter().map(|p| p.at.log10()).collect();
            let ys: Vec<f64> = points.iter().map(|p| p.value).collect();
            let fit = least_squares(&xs, &ys);
            let currency = &exp.currency;
            let note = match fit {
                Some(f) => format!(
                    "Pearson r = {}; {} points per 10× budget",
                    signed(f.r, 2),
                    signed(f.slope * 100.0, 1)
                ),
                None => "no line: every ad has the same budget".to_string(),
            };
            let reference = super::reference_share(b, &group);
            let range = share_range(
                points
                    .iter()
                    .flat_map(|p| [p.low, p.high, p.value])
                    .chain(reference),
                exp.figures.axis,
            );
            let hidden = hidden_intervals(&points, range.end - range.start, 170.0);
            let name = labels.comparison(&c.key);
            let title = format!("{name}: share of {} by budget", labels.group(&group));
            let caption = format!(
                "The {} for each ad of comparison {name} against its {} budget ({currency}, log scale), with {}{} and the least-squares line of the share on log10 of the budget over the {} ads ({note})",
                super::share_phrase(&labels, b.metric, &group),
                kind.to_lowercase(),
                crate::words::ci_intervals(&a.settings),
                hidden_note(hidden),
                points.len(),
            );
            let caption = super::end_caption(caption, b, reference);
            let chart = BudgetChart {
                title: super::in_figure_title(report, &title),
                axis: super::share_axis(&labels, b.metric, &group),
                x_axis: format!("{kind} budget ({currency}, log scale)"),
                points,
                fit,
                reference,
                note,
                ci: super::ci_short(&a.settings),
                range,
            };
            out.push(Planned::new(
                super::stem(&[&c.key, "budget", b.breakdown.as_str(), &group]),
                "budget",
                title,
                caption,
                Plot::Budget(chart),
            ));
        }
    }
    out
}

impl Draw for BudgetChart {
    fn width(&self) -> Width {
        Width::OneColumn
    }

    fn height(&self) -> u32 {
        280
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let mut legend = vec![LegendItem::estimates(&self.ci)];
        if self.fit.is_some() {
            legend.push(LegendItem::new(
                "least squares (log budget)",
                FIT,
                Swatch::Line,
            ));
        }
        if let Some(r) = self.reference {
            legend.push(LegendItem::eligible(r));
        }
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend)
                .x_title(&self.x_axis)
                .y_title(&self.axis)
                .note(&self.note),
        )?;
        let (min, max) = self
            .points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), p| {
                (a.min(p.at), b.max(p.at))
            });
        let x = LogAxis::around(min, max);
        let mut cc = builder(&plot, pen, 16.0, 26.0)
            .build_cartesian_2d(x, RangedCoordf64::from(self.range.clone()))
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.x_label_formatter(&number_tick)
            .y_labels(6)
            .y_label_formatter(&percent_tick)
            .draw()
            .map_err(err)?;
        if let Some(r) = self.reference {
            draw_reference(&mut cc, pen, r, Orient::Vertical, (x.lo, x.hi))?;
        }
        if let Some(f) = self.fit {
            // Over the budgets tested only: no extrapolation. Straight on the log axis.
            let at = |b: f64| (b, f.intercept + f.slope * b.log10());
            pen.mark(class::FIT);
            cc.draw_series(std::iter::once(PathElement::new(
                vec![at(min), at(max)],
                pen.stroke(FIT, 1.2),
            )))
            .map_err(err)?;
        }
        draw_estimates(&mut cc, pen, &self.points, Orient::Vertical)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from numpy (`scripts/gen_chart_fixtures.py` writes
    /// `tests/fixtures/budget_fit.json`): `np.polyfit(x, y, 1)` and `np.corrcoef(x, y)`.
    #[test]
    fn fit_matches_numpy() {
        let text = include_str!("../../../../tests/fixtures/budget_fit.json");
        let cases: serde_json::Value = serde_json::from_str(text).unwrap();
        for case in cases.as_array().unwrap() {
            let v = |k: &str| -> Vec<f64> {
                case[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            };
            let fit = least_squares(&v("x"), &v("y")).unwrap();
            // numpy's polyfit (an SVD) and the centred sums here differ in the last
            // digits where the budgets are large and close together (the third case:
            // exact intercept −13.49991, numpy −13.4999099999456, here −13.4999100000018).
            let close = |a: f64, b: &serde_json::Value| {
                let b = b.as_f64().unwrap();
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
            };
            close(fit.slope, &case["slope"]);
            close(fit.intercept, &case["intercept"]);
            close(fit.r, &case["r"]);
        }
    }

    #[test]
    fn large_close_budgets_keep_their_digits() {
        let fit = least_squares(
            &[100000.0, 100001.0, 100002.0, 100003.0],
            &[0.5001, 0.5003, 0.5002, 0.5006],
        )
        .unwrap();
        assert!((fit.slope - 0.00014).abs() < 1e-14);
        assert!((fit.intercept + 13.49991).abs() < 1e-11);
    }

    #[test]
    fn a_perfect_line_has_r_one() {
        let fit = least_squares(&[1.0, 2.0, 3.0], &[0.6, 0.5, 0.4]).unwrap();
        assert!((fit.slope + 0.1).abs() < 1e-12);
        assert!((fit.intercept - 0.7).abs() < 1e-12);
        assert!((fit.r + 1.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_points_fit_nothing() {
        assert_eq!(least_squares(&[1.0], &[0.5]), None);
        assert_eq!(least_squares(&[2.0, 2.0], &[0.4, 0.5]), None);
        assert!(least_squares(&[1.0, 2.0], &[0.5, 0.5]).unwrap().r.is_nan());
    }

    #[test]
    fn log_axis_ticks_at_one_two_five() {
        let axis = LogAxis::around(1.0, 50.0);
        assert_eq!(axis.ticks(), vec![1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        // Equal ratios take equal room.
        let at = |v: f64| axis.map(&v, (0, 1000));
        assert!(((at(2.0) - at(1.0)) - (at(20.0) - at(10.0))).abs() <= 1);
    }
}
