//! Paired plot (`paired`, one column): the two ads of a two-ad comparison side by side,
//! each with its CI bar, connected, and the two-proportion z-test written over them
//! ("z = 65.3, p < 10⁻⁹²⁷") — Imana et al. 2021's figure of paired job ads.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{
    builder, category_label, chart_p, class, draw_estimates, draw_reference, err, frame,
    percent_tick, signed, style_mesh, Categories, Draw, DrawResult, Estimate, Layout, LegendItem,
    Orient, Pen, Width, BLUE, GREY, NOTE_PT,
};
use super::{Planned, Plot, Report};
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
}

/// "z = 65.3" (one decimal from 10 on, else two).
pub fn format_z(z: f64) -> String {
    format!("z = {}", signed(z, if z.abs() >= 10.0 { 1 } else { 2 }))
}

pub(super) fn plan(report: &Report) -> Vec<Planned> {
    let a = &report.analysis;
    let mut out = Vec::new();
    for c in &a.comparisons {
        let Some(b) = c.breakdowns.iter().find(|b| b.z_test.is_some()) else {
            continue;
        };
        let z = b.z_test.as_ref().expect("found above");
        let shares = super::shares_of(b, &z.group);
        let estimate = |ad: &str| {
            shares.iter().find(|s| s.ad == ad).map(|s| Estimate {
                at: 0.0,
                value: s.share,
                low: s.ci.low,
                high: s.ci.high,
            })
        };
        let (Some(mut e1), Some(mut e2)) = (estimate(&z.ad1), estimate(&z.ad2)) else {
            continue;
        };
        (e1.at, e2.at) = (0.5, 1.5);
        let reference = super::reference_share(b, &z.group);
        let test = format!(
            "{}, {}",
            format_z(z.test.statistic),
            chart_p(z.test.p_value, z.test.log10_p_value)
        );
        let ci = super::ci_phrase(&a.settings);
        let sided = match z.test.alternative {
            Alternative::TwoSided => "two-sided",
            _ => "one-sided",
        };
        let caption = format!(
            "The {} for {} and {} (comparison {}), with {ci}; pooled two-proportion z-test ({sided}, before the {} correction): {test}.",
            super::share_phrase(b.metric, &z.group),
            z.ad1,
            z.ad2,
            c.key,
            a.settings.correction,
        );
        let title = format!(
            "{}: share of {}, paired",
            c.key,
            crate::words::group_label(&z.group)
        );
        out.push(Planned {
            stem: super::stem(&[&c.key, "paired", &z.group]),
            kind: "paired",
            title: title.clone(),
            caption,
            plot: Plot::Paired(PairedChart {
                title,
                axis: super::share_axis(b.metric, &z.group),
                ads: [z.ad1.clone(), z.ad2.clone()],
                estimates: [e1, e2],
                reference,
                test,
                ci: super::ci_short(&a.settings),
            }),
        });
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
            .build_cartesian_2d(Categories(2), 0.0f64..1.0f64)
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
        draw_estimates(&mut cc, pen, &self.estimates, Orient::Vertical, BLUE, 0.06)?;
        pen.mark(class::VALUE);
        cc.draw_series(self.estimates.iter().map(|e| {
            Text::new(
                percent(e.value),
                (e.at + 0.07, e.value),
                pen.text(NOTE_PT, Pos::new(HPos::Left, VPos::Center)),
            )
        }))
        .map_err(err)?;
        pen.mark("");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_reads_like_the_paper() {
        assert_eq!(format_z(65.318), "z = 65.3");
        assert_eq!(format_z(1.234), "z = 1.23");
        assert_eq!(format_z(-2.5), "z = \u{2212}2.50");
    }
}
