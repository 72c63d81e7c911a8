//! Charts: for each comparison, the share of one group (women, by default) per ad with
//! confidence-interval bars and a reference line at the eligible audience's share, in the
//! style of Ali et al. 2019's job-ad figure. SVG for papers, PNG at 300 dpi for slides.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (through plotters' `ab_glyph`
//! backend), so PNGs look the same on every machine and need no system fonts. SVGs name
//! the font family and are byte-identical for the same analysis.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{write_file, Exporter, Report};
use crate::analysis::{Analysis, BreakdownResult, ComparisonResult};
use crate::error::{Error, Result};
use crate::vocab::Breakdown;

/// Width of the SVG in CSS pixels.
const SVG_WIDTH: u32 = 640;
/// One-column figure width in a paper (3.5 in) at 300 dpi.
const PNG_WIDTH: u32 = 1050;
const FONT: &str = "sans-serif";

/// Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREY: RGBColor = RGBColor(90, 90, 90);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is valid"));
    });
}

pub struct ChartExporter;

/// The group charted for a breakdown: women for gender, else the first group.
pub fn group_of(b: &BreakdownResult) -> Option<String> {
    if b.breakdown == Breakdown::Gender && b.groups.iter().any(|g| g == "female") {
        return Some("female".to_string());
    }
    b.groups.first().cloned()
}

/// The breakdown a comparison's chart shows: gender if collected, else the first.
fn charted(c: &ComparisonResult) -> Option<&BreakdownResult> {
    c.breakdowns
        .iter()
        .find(|b| b.breakdown == Breakdown::Gender)
        .or_else(|| c.breakdowns.first())
}

/// File name (without extension) of the chart for `b`, if `b` is the charted breakdown.
pub fn file_stem(c: &ComparisonResult, b: &BreakdownResult) -> Option<String> {
    let shown = charted(c)?;
    if shown.breakdown != b.breakdown || b.groups.is_empty() {
        return None;
    }
    Some(format!("{}-{}-{}", c.key, b.breakdown, group_of(b)?).replace(['+', ' ', '/'], "_"))
}

/// One point of the chart.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub share: f64,
    pub low: f64,
    pub high: f64,
}

/// What one chart shows.
#[derive(Debug, Clone)]
pub struct ShareChart {
    pub title: String,
    pub x_label: String,
    pub points: Vec<Point>,
    pub reference: Option<f64>,
}

/// Builds the chart of a comparison's charted breakdown from the analysis.
pub fn share_chart(a: &Analysis, c: &ComparisonResult, b: &BreakdownResult) -> Option<ShareChart> {
    let group = group_of(b)?;
    let j = b.groups.iter().position(|g| *g == group)?;
    let mut points: Vec<Point> = c
        .ads
        .iter()
        .enumerate()
        .map(|(i, ad)| {
            let s = &b.shares[i * b.groups.len() + j];
            Point {
                label: ad.clone(),
                share: s.share,
                low: s.ci.low,
                high: s.ci.high,
            }
        })
        .filter(|p| p.share.is_finite())
        .collect();
    // Sorted by share, as in the published figures.
    points.sort_by(|x, y| {
        x.share
            .total_cmp(&y.share)
            .then_with(|| x.label.cmp(&y.label))
    });
    let group_label = if group == "female" {
        "women".to_string()
    } else {
        group.clone()
    };
    Some(ShareChart {
        title: format!("{}: share of {group_label} by ad", c.key),
        x_label: format!(
            "share of {group_label} among {} ({}% {} CI)",
            if b.metric == crate::vocab::Metric::Reach {
                "people reached"
            } else {
                "impressions"
            },
            a.settings.ci_level * 100.0,
            a.settings.ci
        ),
        points,
        reference: b.eligible.get(j).copied(),
    })
}

impl Exporter for ChartExporter {
    fn name(&self) -> &'static str {
        "charts"
    }

    fn export(&self, report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
        let analysis = &report.analysis;
        let mut written = Vec::new();
        for c in &analysis.comparisons {
            let Some(b) = charted(c) else { continue };
            let (Some(stem), Some(chart)) = (file_stem(c, b), share_chart(analysis, c, b)) else {
                continue;
            };
            let svg_path = dir.join(format!("{stem}.svg"));
            write_file(&svg_path, render_svg(&chart)?.as_bytes())?;
            let png_path = dir.join(format!("{stem}.png"));
            write_file(&png_path, &render_png(&chart)?)?;
            written.push(svg_path);
            written.push(png_path);
        }
        Ok(written)
    }
}

fn height_for(points: usize, width: u32) -> u32 {
    let scale = width as f64 / SVG_WIDTH as f64;
    ((110.0 + 34.0 * points.max(1) as f64) * scale) as u32
}

/// Renders the chart as an SVG document.
pub fn render_svg(chart: &ShareChart) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let backend = SVGBackend::with_string(
            &mut svg,
            (SVG_WIDTH, height_for(chart.points.len(), SVG_WIDTH)),
        );
        draw(backend.into_drawing_area(), chart, 1.0).map_err(|message| Error::Chart {
            path: "svg".into(),
            message,
        })?;
    }
    Ok(svg)
}

/// Renders the chart as a PNG, 3.5 inches wide at 300 dpi.
pub fn render_png(chart: &ShareChart) -> Result<Vec<u8>> {
    register_font();
    let (w, h) = (PNG_WIDTH, height_for(chart.points.len(), PNG_WIDTH));
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let backend = BitMapBackend::with_buffer(&mut pixels, (w, h));
        draw(
            backend.into_drawing_area(),
            chart,
            PNG_WIDTH as f64 / SVG_WIDTH as f64,
        )
        .map_err(|message| Error::Chart {
            path: "png".into(),
            message,
        })?;
    }
    let image = image_rgb(w, h, pixels);
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Chart {
            path: "png".into(),
            message: e.to_string(),
        })?;
    Ok(out.into_inner())
}

fn image_rgb(w: u32, h: u32, pixels: Vec<u8>) -> image::RgbImage {
    image::RgbImage::from_raw(w, h, pixels).expect("buffer matches dimensions")
}

fn draw<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    chart: &ShareChart,
    s: f64,
) -> std::result::Result<(), String> {
    let px = |v: f64| (v * s).round() as u32;
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(err)?;
    let n = chart.points.len().max(1);
    let longest = chart
        .points
        .iter()
        .map(|p| p.label.chars().count())
        .max()
        .unwrap_or(4) as f64;
    let mut cc = ChartBuilder::on(&area)
        .caption(&chart.title, (FONT, px(17.0)).into_font())
        .margin(px(12.0))
        .margin_right(px(28.0))
        .x_label_area_size(px(44.0))
        .y_label_area_size(px((longest * 7.5 + 14.0).min(260.0)))
        .build_cartesian_2d(0.0f64..1.0f64, 0.0f64..n as f64)
        .map_err(err)?;
    let labels: Vec<String> = chart.points.iter().map(|p| p.label.clone()).collect();
    cc.configure_mesh()
        .x_desc(&chart.x_label)
        .x_labels(11)
        .x_label_formatter(&|x| format!("{:.0}%", x * 100.0))
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (y - 0.5).round();
            if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .max_light_lines(1)
        .label_style((FONT, px(13.0)).into_font())
        .axis_desc_style((FONT, px(13.0)).into_font())
        .light_line_style(RGBColor(235, 235, 235).stroke_width(px(1.0)))
        .bold_line_style(RGBColor(210, 210, 210).stroke_width(px(1.0)))
        .draw()
        .map_err(err)?;

    if let Some(r) = chart.reference {
        cc.draw_series(std::iter::once(PathElement::new(
            vec![(r, 0.0), (r, n as f64)],
            GREY.stroke_width(px(2.0)),
        )))
        .map_err(err)?
        .label(format!("eligible audience ({:.1}%)", r * 100.0))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREY.stroke_width(2)));
    }
    let cap = 0.15;
    cc.draw_series(chart.points.iter().enumerate().flat_map(|(i, p)| {
        let y = i as f64 + 0.5;
        vec![
            PathElement::new(
                vec![(p.low, y), (p.high, y)],
                VERMILLION.stroke_width(px(2.0)),
            ),
            PathElement::new(
                vec![(p.low, y - cap), (p.low, y + cap)],
                VERMILLION.stroke_width(px(2.0)),
            ),
            PathElement::new(
                vec![(p.high, y - cap), (p.high, y + cap)],
                VERMILLION.stroke_width(px(2.0)),
            ),
        ]
    }))
    .map_err(err)?;
    cc.draw_series(
        chart
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| Circle::new((p.share, i as f64 + 0.5), px(5.0), BLUE.filled())),
    )
    .map_err(err)?
    .label("share per ad")
    .legend(|(x, y)| Circle::new((x + 8, y), 4, BLUE.filled()));
    cc.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, px(12.0)).into_font())
        .draw()
        .map_err(err)?;
    area.present().map_err(err)?;
    Ok(())
}
