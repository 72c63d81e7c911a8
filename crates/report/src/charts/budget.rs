//! Budget sweep (`budget`, one column): for a comparison that varies the budget
//! (`vary = ["budget"]`), each ad's share of a group against its budget, with CI bars, the
//! least-squares line and Pearson's r — Ali et al. 2019 §4.1 (fig. 2), who found the share
//! of men falling as the daily budget rose (r = −0.88).
//!
//! The line and r are descriptive: they summarise the points drawn, on the budget's own
//! (linear) scale, unweighted, as the paper reports them. [`least_squares`] computes both.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    class, draw_estimates, err, frame, share_against_number, signed, Draw, DrawResult, Estimate,
    Layout, LegendItem, Orient, Pen, Swatch, Width, BLUE, VERMILLION,
};
use super::{Planned, Plot, Report};
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
    pub fit: Option<Fit>,
    pub reference: Option<f64>,
    /// "r = −0.93; slope −0.21 points per USD".
    pub note: String,
    pub ci: String,
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let exp = &report.experiment;
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
                })
                .collect();
            if points.len() < 2 {
                continue;
            }
            let xs: Vec<f64> = points.iter().map(|p| p.at).collect();
            let ys: Vec<f64> = points.iter().map(|p| p.value).collect();
            let fit = least_squares(&xs, &ys);
            let currency = &exp.currency;
            let note = match fit {
                Some(f) => format!(
                    "Pearson r = {}; slope {} points per {currency}",
                    signed(f.r, 2),
                    signed(f.slope * 100.0, 2)
                ),
                None => "no line: every ad has the same budget".to_string(),
            };
            let reference = super::reference_share(b, &group);
            let ci = super::ci_phrase(&a.settings);
            let title = format!(
                "{}: share of {} by budget",
                c.key,
                crate::words::group_label(&group)
            );
            let caption = format!(
                "The {} for each ad of comparison {} against its {} budget ({currency}), with {ci} and the least-squares line over the {} ads ({note})",
                super::share_phrase(b.metric, &group),
                c.key,
                kind.to_lowercase(),
                points.len(),
            );
            let caption = super::end_caption(caption, b, reference);
            out.push(Planned {
                stem: super::stem(&[&c.key, "budget", b.breakdown.as_str(), &group]),
                kind: "budget",
                title: title.clone(),
                caption,
                plot: Plot::Budget(BudgetChart {
                    title,
                    axis: super::share_axis(b.metric, &group),
                    x_axis: format!("{kind} budget ({currency})"),
                    points,
                    fit,
                    reference,
                    note,
                    ci: super::ci_short(&a.settings),
                }),
            });
        }
    }
    out
}

/// The value range shown: the points, their CIs and the reference with a margin, in
/// steps of 5 points.
fn value_range(points: &[Estimate], reference: Option<f64>) -> (f64, f64) {
    let values = points
        .iter()
        .flat_map(|p| [p.low, p.high, p.value])
        .chain(reference)
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((1.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = ((lo - 0.05) * 20.0).floor() / 20.0;
    let hi = ((hi + 0.05) * 20.0).ceil() / 20.0;
    (lo.max(0.0), hi.min(1.0).max(lo.max(0.0) + 0.05))
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
            legend.push(LegendItem::new("least squares", VERMILLION, Swatch::Line));
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
        let x_max = self.points.iter().map(|p| p.at).fold(0.0f64, f64::max) * 1.06;
        let x_max = if x_max > 0.0 { x_max } else { 1.0 };
        let (lo, hi) = value_range(&self.points, self.reference);
        let mut cc = share_against_number(&plot, pen, 0.0..x_max, lo..hi, self.reference)?;
        if let Some(f) = self.fit {
            // Over the budgets tested only: no extrapolation.
            let (x0, x1) = self
                .points
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(a, b), p| {
                    (a.min(p.at), b.max(p.at))
                });
            pen.mark(class::FIT);
            cc.draw_series(std::iter::once(PathElement::new(
                vec![
                    (x0, f.intercept + f.slope * x0),
                    (x1, f.intercept + f.slope * x1),
                ],
                pen.stroke(VERMILLION, 1.2),
            )))
            .map_err(err)?;
        }
        draw_estimates(
            &mut cc,
            pen,
            &self.points,
            Orient::Vertical,
            BLUE,
            x_max * 0.012,
        )?;
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
    fn value_range_is_padded_in_five_point_steps() {
        let p = |v: f64| Estimate {
            at: 1.0,
            value: v,
            low: v - 0.01,
            high: v + 0.01,
        };
        assert_eq!(value_range(&[p(0.42), p(0.55)], Some(0.5)), (0.35, 0.65));
        assert_eq!(value_range(&[p(0.02)], None), (0.0, 0.1));
    }
}
