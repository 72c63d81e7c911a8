//! Paired plot (`paired`, one column): the two ads of a two-ad comparison side by side,
//! each with its CI bar, connected, and the two-proportion z-test written over them
//! ("z = 65.3, p < 10⁻⁹²⁷") — Imana et al. 2021's figure of paired job ads.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use plotters::coord::types::RangedCoordf64;

use super::style::{
    builder, category_label, chart_p, class, draw_estimates, draw_reference, err, frame,
    hidden_intervals, hidden_note, percent_tick, share_range, signed, style_mesh, Categories, Draw,
    DrawResult, Estimate, Layout, LegendItem, Orient, Pen, Width, CAP, GREY, NOTE_PT, SVG_DPI,
};
use super::{Planned, Plot, Report};
use crate::labels::Labels;
use crate::words::percent;
use adskew_core::analysis::ztest::Alternative;

/// What one paired plot shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedChart {
    pub title: String,
    /// The value axis' title.
    pub axis: String,
    /// Ad 1 (the one expected higher, when a direction was given) and ad 2.
    pub ads: [String; 2],
    pub estimates: [Estimate; 2],
    pub reference: Option<f64>,
    /// "z = 65.3, p < 10⁻⁹²⁷".
    pub test: String,
    /// "95% Wilson CI", for the legend.
    pub ci: String,
    /// The share axis' range.
    pub range: std::ops::Range<f64>,
}

/// "z = 65.3" (one decimal from 10 on, else two).
pub fn format_z(z: f64) -> String {
    format!("z = {}", signed(z, if z.abs() >= 10.0 { 1 } else { 2 }))
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let labels = Labels::of(&report.experiment);
    let mut out = Vec::new();
    for c in &a.comparisons {
        let Some(b) = c.breakdowns.iter().find(|b| b.z_test.is_some()) else {
            continue;
        };
        let z = b.z_test.as_ref().expect("found above");
        let shares = super::shares_of(b, &z.group);
        let estimate = |ad: &str, at: f64| {
            shares.iter().find(|s| s.ad == ad).map(|s| Estimate {
                at,
                value: s.share,
                low: s.ci.low,
                high: s.ci.high,
                colour: super::palette::ad_colour(&report.experiment, ad),
            })
        };
        let (Some(e1), Some(e2)) = (estimate(&z.ad1, 0.5), estimate(&z.ad2, 1.5)) else {
            continue;
        };
        let reference = super::reference_share(b, &z.group);
        let test = format!(
            "{}, {}",
            format_z(z.test.statistic),
            chart_p(z.test.p_value, z.test.log10_p_value, a.settings.p_floor)
        );
        let sided = match z.test.alternative {
            Alternative::TwoSided => "two-sided",
            _ => "one-sided",
        };
        let adjusted = match crate::words::correction_name(a.settings.correction) {
            Some(name) => format!("before the {name} adjustment"),
            None => "not adjusted for multiple tests".to_string(),
        };
        let range = share_range(
            [e1, e2]
                .iter()
                .flat_map(|e| [e.low, e.high, e.value])
                .chain(reference),
            report.experiment.figures.axis,
        );
        let hidden = hidden_intervals(&[e1, e2], range.end - range.start, 150.0);
        let name = labels.comparison(&c.key);
        let (ad1, ad2) = (labels.ad(&z.ad1), labels.ad(&z.ad2));
        let caption = format!(
            "The {} for {ad1} and {ad2} (comparison {name}), with {}{}; pooled two-proportion z-test ({sided}, {adjusted}): {test}.",
            super::share_phrase(&labels, b.metric, &z.group),
            crate::words::ci_intervals(&a.settings),
            hidden_note(hidden),
        );
        let title = format!("{name}: share of {}, paired", labels.group(&z.group));
        let chart = PairedChart {
            title: super::in_figure_title(report, &title),
            axis: super::share_axis(&labels, b.metric, &z.group),
            ads: [ad1, ad2],
            estimates: [e1, e2],
            reference,
            test,
            ci: super::ci_short(&a.settings),
            range,
        };
        out.push(Planned::new(
            super::stem(&[&c.key, "paired", &z.group]),
            "paired",
            title,
            caption,
            Plot::Paired(chart),
        ));
    }
    out
}

impl Draw for PairedChart {
    fn width(&self) -> Width {
        Width::OneColumn
    }

    fn height(&self) -> u32 {
        264
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
        let mut legend = vec![LegendItem::estimates(&self.ci)];
        if let Some(r) = self.reference {
            legend.push(LegendItem::eligible(r));
        }
        let plot = frame(
            area,
            pen,
            &Layout::new(&self.title, &legend)
                .y_title(&self.axis)
                .note(&self.test),
        )?;
        let labels = self.ads.to_vec();
        let mut cc = builder(&plot, pen, 18.0, 26.0)
            .build_cartesian_2d(Categories(2), self.range.clone())
            .map_err(err)?;
        let mut mesh = cc.configure_mesh();
        style_mesh(&mut mesh, pen);
        mesh.x_label_formatter(&|x| category_label(&labels, *x))
            .y_labels(6)
            .y_label_formatter(&percent_tick)
            .draw()
            .map_err(err)?;
        if let Some(r) = self.reference {
            draw_reference(&mut cc, pen, r, Orient::Vertical, (0.0, 2.0))?;
        }
        pen.mark(class::LINE);
        cc.draw_series(std::iter::once(PathElement::new(
            self.estimates
                .iter()
                .map(|e| (e.at, e.value))
                .collect::<Vec<_>>(),
            pen.stroke(GREY, 1.0),
        )))
        .map_err(err)?;
        draw_estimates(&mut cc, pen, &self.estimates, Orient::Vertical)?;
        self.draw_values(&mut cc, pen)
    }
}

impl PairedChart {
    /// Each ad's share written beside its point, on the side away from the line that
    /// connects the two (left of the first, right of the second), and moved off the
    /// eligible line when it would sit on it.
    fn draw_values<DB: DrawingBackend>(
        &self,
        cc: &mut ChartContext<'_, DB, Cartesian2d<Categories, RangedCoordf64>>,
        pen: &Pen,
    ) -> DrawResult {
        // In the output's pixels.
        let text_h = pen.px(NOTE_PT * SVG_DPI / 72.0) as f64;
        let line_y = self.reference.map(|r| cc.backend_coord(&(0.0, r)).1 as f64);
        pen.mark(class::VALUE);
        for (i, e) in self.estimates.iter().enumerate() {
            let (side, hpos) = if i == 0 {
                (-(CAP + 4.0), HPos::Right)
            } else {
                (CAP + 4.0, HPos::Left)
            };
            let at = cc.backend_coord(&(e.at, e.value)).1 as f64;
            let dy = value_offset(at, line_y, text_h).round() as i32;
            cc.draw_series(std::iter::once(
                EmptyElement::at((e.at, e.value))
                    + Text::new(
                        percent(e.value),
                        (pen.offset(side), dy),
                        pen.text(NOTE_PT, Pos::new(hpos, VPos::Center)),
                    ),
            ))
            .map_err(err)?;
        }
        pen.mark("");
        Ok(())
    }
}

/// How far (pixels, down positive) to move a value label centred at `at` so that it
/// clears a horizontal line at `line` by the label's half height and a little.
pub fn value_offset(at: f64, line: Option<f64>, text_h: f64) -> f64 {
    let clear = text_h * 0.5 + 1.5;
    match line {
        Some(l) if (at - l).abs() < clear => {
            if at <= l {
                l - clear - at
            } else {
                l + clear - at
            }
        }
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_labels_move_off_the_eligible_line() {
        // Far from the line: where the point is.
        assert_eq!(value_offset(100.0, Some(150.0), 10.0), 0.0);
        assert_eq!(value_offset(100.0, None, 10.0), 0.0);
        // On or near the line: moved to clear it by half the text's height.
        let up = value_offset(99.0, Some(100.0), 10.0);
        assert!((99.0 + up - (100.0 - 6.5)).abs() < 1e-9);
        let down = value_offset(102.0, Some(100.0), 10.0);
        assert!((102.0 + down - 106.5).abs() < 1e-9);
    }

    #[test]
    fn z_reads_like_the_paper() {
        assert_eq!(format_z(65.318), "z = 65.3");
        assert_eq!(format_z(1.234), "z = 1.23");
        assert_eq!(format_z(-2.5), "z = \u{2212}2.50");
    }
}
