//! The one look every chart shares, and the rendering to SVG, PNG and PDF.
//!
//! **Sizes.** Charts are drawn at the size they are printed: an SVG user unit is a CSS
//! pixel (1/96 in), and every figure is one column (3.5 in, 336 units) or two columns
//! (7 in, 672 units) of a two-column paper wide. The SVG states its size in inches, so
//! LaTeX, Word and browsers place it at that size; the PNG is the same drawing at 300 dpi
//! (1050 or 2100 pixels wide) with a `pHYs` chunk saying so. Text is 7–9 pt at that size,
//! what journals ask for.
//!
//! **Colours.** One meaning per colour in a whole report ([`super::palette`]): each ad
//! its own Okabe–Ito colour in every figure, women vermillion, men blue, unknown grey,
//! other groups viridis. Reference lines (the eligible audience) are grey and dashed.
//!
//! **Style.** In the paper style (the default) a figure has no title inside it: the
//! title and caption go into `report.md`, the HTML and LaTeX, as journals set them. The
//! screen style draws the title above the plot.
//!
//! **Intervals.** Thin whiskers with small caps of a fixed printed size (never scaled
//! with the data, so they never grow into bars), the point marker on top.
//!
//! **Font.** DejaVu Sans, bundled in the binary and embedded in every SVG as the subset
//! its text uses ([`super::font`]); layout measures text with the same font's advances.
//! The PNG and the PDF are rendered from the SVG ([`super::output`]), so all three set
//! the same glyphs in the same places, on every machine, with no system fonts.
//!
//! **Marks.** Every mark in an SVG carries a `class` saying what it is (`point`, `ci`,
//! `bar`, `line`, `fit`, `reference`, `annotation`, `legend`), so tests and readers can
//! find the data in the drawing ([`super::svg`]). SVGs are byte-identical for the same
//! data: nothing in them depends on time, the machine or hash-map order.

use std::cell::Cell;
use std::rc::Rc;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// CSS pixels per inch: the SVG's user unit.
pub const SVG_DPI: f64 = 96.0;
/// Resolution of the PNGs.
pub const PNG_DPI: f64 = 300.0;
/// The font family plotters is given; the SVG names the embedded subset instead
/// ([`super::svg`]).
pub const FONT: &str = super::font::FAMILY;

/// Type sizes, in points at print size.
pub const TITLE_PT: f64 = 9.0;
pub const LABEL_PT: f64 = 8.0;
pub const TICK_PT: f64 = 7.0;
pub const NOTE_PT: f64 = 7.5;

/// Okabe–Ito colours.
pub const BLACK: RGBColor = RGBColor(0, 0, 0);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
pub const BLUISH_GREEN: RGBColor = RGBColor(0, 158, 115);
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const REDDISH_PURPLE: RGBColor = RGBColor(204, 121, 167);
/// Reference lines, unknown gender, frames.
pub const GREY: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(232, 232, 232);
const AXIS: RGBColor = RGBColor(90, 90, 90);

/// `#RRGGBB`, as an SVG writes a colour.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// What a mark is, written as its SVG `class`.
pub mod class {
    pub const POINT: &str = "point";
    pub const CI: &str = "ci";
    pub const BAR: &str = "bar";
    pub const LINE: &str = "line";
    pub const FIT: &str = "fit";
    pub const REFERENCE: &str = "reference";
    pub const ANNOTATION: &str = "annotation";
    pub const VALUE: &str = "value";
    pub const LEGEND: &str = "legend";
    /// A confidence band.
    pub const BAND: &str = "band";
    /// The end of the schedule.
    pub const END: &str = "end";
}

/// The printed width of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 3.5 in: one column of a two-column paper.
    OneColumn,
    /// 7 in: the full text width.
    TwoColumn,
}

impl Width {
    pub fn inches(self) -> f64 {
        match self {
            Width::OneColumn => 3.5,
            Width::TwoColumn => 7.0,
        }
    }

    /// Width in SVG units (CSS pixels).
    pub fn svg_px(self) -> u32 {
        (self.inches() * SVG_DPI).round() as u32
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Width::OneColumn => "one-column",
            Width::TwoColumn => "two-column",
        }
    }
}

/// Why a chart could not be made. The exporter turns it into
/// [`adskew_core::error::Error::Chart`] with the file it was for.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Plotters could not draw or lay out the chart. Its errors are generic over the
    /// backend, so they are kept as their text.
    #[error("drawing: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("encoding the PNG: {0}")]
    Png(#[source] png::EncodingError),
    /// usvg could not read the SVG adskew drew, on the way to the PNG or PDF.
    #[error("reading the SVG: {0}")]
    Svg(#[source] usvg::Error),
    /// svg2pdf could not convert the SVG (its error is text).
    #[error("converting the SVG to PDF: {0}")]
    Pdf(String),
}

impl ChartError {
    /// The same error once more, for a chart drawn once and written to several files.
    /// Drawing fails only in plotters, whose errors are kept as text, so nothing is lost.
    pub fn again(&self) -> ChartError {
        match self {
            ChartError::Draw(text) => ChartError::Draw(text.clone()),
            ChartError::Pdf(text) => ChartError::Pdf(text.clone()),
            other => ChartError::Draw(other.to_string()),
        }
    }
}

/// The drawing result of every chart.
pub type DrawResult<T = ()> = std::result::Result<T, ChartError>;

/// Turns any plotters error into a [`DrawResult`] error.
pub fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// A chart that can be drawn on any backend.
pub trait Draw {
    fn width(&self) -> Width;
    /// Height in SVG units.
    fn height(&self) -> u32;
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult;
}

/// Sizes at the output's scale, and the class of the marks being drawn (SVG only).
pub struct Pen {
    scale: f64,
    class: Option<Rc<Cell<&'static str>>>,
}

impl Pen {
    /// The pen of the one drawing, the SVG ([`super::svg`]; the PNG and PDF are rendered
    /// from it), writing the class of each mark into `class`.
    pub(crate) fn for_svg(class: Rc<Cell<&'static str>>) -> Pen {
        Pen {
            scale: 1.0,
            class: Some(class),
        }
    }

    /// A length given in SVG units, at the output's scale.
    pub fn px(&self, v: f64) -> u32 {
        (v * self.scale).round().max(0.0) as u32
    }

    /// Same as [`Pen::px`], signed (for offsets).
    pub fn offset(&self, v: f64) -> i32 {
        (v * self.scale).round() as i32
    }

    /// The font at `pt` points.
    pub fn font(&self, pt: f64) -> FontDesc<'static> {
        // Plotters' SVG backend writes `size / 1.24` as the font size; undo that so `pt`
        // is the printed size.
        (FONT, self.font_size(pt)).into_font()
    }

    fn font_size(&self, pt: f64) -> f64 {
        pt * SVG_DPI / 72.0 * 1.24 * self.scale
    }

    /// Text at `pt` points, anchored at `pos`.
    pub fn text(&self, pt: f64, pos: Pos) -> TextStyle<'static> {
        TextStyle::from(self.font(pt)).pos(pos)
    }

    /// A stroke of `width` SVG units.
    pub fn stroke(&self, colour: RGBColor, width: f64) -> ShapeStyle {
        ShapeStyle::from(&colour).stroke_width(self.px(width).max(1))
    }

    /// Marks drawn from now on are of `class` (in SVGs; nothing in PNGs).
    pub fn mark(&self, class: &'static str) {
        if let Some(c) = &self.class {
            c.set(class);
        }
    }
}

/// Renders a chart as an SVG document (text only: the font subset it embeds is in
/// [`super::svg::render`]'s answer).
pub fn render_svg(chart: &impl Draw) -> DrawResult<String> {
    super::svg::render(chart).map(|svg| svg.text)
}

/// Styles an axis mesh the common way: light grid, grey axes, the chart fonts.
pub fn style_mesh<X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &mut MeshStyle<'_, '_, X, Y, DB>,
    pen: &Pen,
) {
    mesh.label_style(pen.font(TICK_PT))
        .axis_desc_style(pen.font(LABEL_PT))
        .axis_style(pen.stroke(AXIS, 0.8))
        .light_line_style(TRANSPARENT)
        .bold_line_style(pen.stroke(GRID, 0.6))
        .set_all_tick_mark_size(pen.px(3.0));
}

/// The chart builder every kind starts from: the common margins, and room for the tick
/// labels under the plot (`x_ticks`) and left of it (`y_ticks`), in SVG units.
pub fn builder<'a, 'b, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    pen: &Pen,
    x_ticks: f64,
    y_ticks: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(plot);
    b.margin(pen.px(4.0))
        .margin_right(pen.px(14.0))
        .x_label_area_size(pen.px(x_ticks))
        .y_label_area_size(pen.px(y_ticks));
    b
}

/// A plot of shares (y, in %) against a number (x), with the reference line drawn: the
/// over-time and budget charts.
pub fn share_against_number<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    pen: &Pen,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    reference: Option<f64>,
) -> DrawResult<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let span = (x.start, x.end);
    let mut cc = builder(plot, pen, 16.0, 26.0)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    let mut mesh = cc.configure_mesh();
    style_mesh(&mut mesh, pen);
    mesh.x_labels(7)
        .x_label_formatter(&number_tick)
        .y_labels(6)
        .y_label_formatter(&percent_tick)
        .draw()
        .map_err(err)?;
    if let Some(r) = reference {
        draw_reference(&mut cc, pen, r, Orient::Vertical, span)?;
    }
    Ok(cc)
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A filled square (bars).
    Square,
    /// A dot (points).
    Dot,
    /// A line with a dot (lines through points).
    LineDot,
    /// A solid line (fits).
    Line,
    /// A dashed line (reference lines).
    Dashed,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct LegendItem {
    pub label: String,
    pub colour: RGBColor,
    pub swatch: Swatch,
}

impl LegendItem {
    /// "ad (95% Wilson CI)": the dots with CI bars (in grey: each ad has its colour).
    pub fn estimates(ci: &str) -> Self {
        LegendItem::new(format!("ad ({ci})"), GREY, Swatch::Dot)
    }

    /// "eligible audience (50.5%)": the dashed reference line.
    pub fn eligible(share: f64) -> Self {
        LegendItem::new(
            format!("eligible audience ({})", crate::words::percent(share)),
            GREY,
            Swatch::Dashed,
        )
    }

    pub fn new(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> Self {
        LegendItem {
            label: label.into(),
            colour,
            swatch,
        }
    }
}

/// The parts of a figure around its plot.
#[derive(Debug, Clone, Default)]
pub struct Layout<'a> {
    pub title: &'a str,
    pub legend: &'a [LegendItem],
    /// The horizontal axis' title, centred under the figure.
    pub x_title: Option<&'a str>,
    /// The vertical axis' title, written horizontally above the plot (a rotated title
    /// would not fit the height of a one-column figure).
    pub y_title: Option<&'a str>,
    /// A line under the legend (class `annotation`): a test's result.
    pub note: Option<&'a str>,
}

impl<'a> Layout<'a> {
    pub fn new(title: &'a str, legend: &'a [LegendItem]) -> Self {
        Layout {
            title,
            legend,
            ..Layout::default()
        }
    }

    pub fn x_title(self, x_title: &'a str) -> Self {
        Layout {
            x_title: Some(x_title),
            ..self
        }
    }

    pub fn y_title(self, y_title: &'a str) -> Self {
        Layout {
            y_title: Some(y_title),
            ..self
        }
    }

    pub fn note(self, note: &'a str) -> Self {
        Layout {
            note: Some(note),
            ..self
        }
    }
}

/// White background; the title on top, the legend in centred rows under it, the vertical
/// axis' title above the plot and the horizontal axis' title at the bottom; returns the
/// area left for the plot (whose own x label area holds only the tick labels).
pub fn frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: &Pen,
    layout: &Layout<'_>,
) -> DrawResult<DrawingArea<DB, Shift>> {
    pen.mark("");
    area.fill(&WHITE).map_err(err)?;
    let rest = if layout.title.is_empty() {
        // Paper style: the caption outside the figure carries the title.
        area.margin(pen.px(4.0), 0, 0, 0)
    } else {
        titled(area, pen, layout.title)?
    };
    framed_below(rest, pen, layout)
}

/// The title on top, set smaller rather than cut off when long (a long comparison
/// label); the area under it.
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: &Pen,
    title: &str,
) -> DrawResult<DrawingArea<DB, Shift>> {
    let (title_w, _) = area
        .estimate_text_size(title, &TextStyle::from(pen.font(TITLE_PT)))
        .map_err(err)?;
    let room = area.dim_in_pixel().0 as f64 - pen.px(12.0) as f64;
    let title_pt = if title_w as f64 > room {
        (TITLE_PT * room / title_w as f64).max(6.0)
    } else {
        TITLE_PT
    };
    let title_font = pen.font(title_pt);
    area.margin(pen.px(4.0), 0, 0, 0)
        .titled(title, title_font)
        .map_err(err)
}

/// Continues [`frame`] below the title.
fn framed_below<DB: DrawingBackend>(
    mut rest: DrawingArea<DB, Shift>,
    pen: &Pen,
    layout: &Layout<'_>,
) -> DrawResult<DrawingArea<DB, Shift>> {
    if !layout.legend.is_empty() {
        rest = legend_strip(&rest, pen, layout.legend)?;
    }
    let (width, _) = rest.dim_in_pixel();
    let line = pen.offset(LABEL_PT * SVG_DPI / 72.0 * 1.5);
    if let Some(note) = layout.note {
        let (strip, plot) = rest.split_vertically(line);
        pen.mark(class::ANNOTATION);
        strip
            .draw(&Text::new(
                note.to_string(),
                (width as i32 / 2, line / 2),
                pen.text(LABEL_PT, Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(err)?;
        pen.mark("");
        rest = plot;
    }
    if let Some(y_title) = layout.y_title {
        let (strip, plot) = rest.split_vertically(line);
        strip
            .draw(&Text::new(
                y_title.to_string(),
                (pen.offset(6.0), line / 2),
                pen.text(LABEL_PT, Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(err)?;
        rest = plot;
    }
    if let Some(x_title) = layout.x_title {
        let (_, h) = rest.dim_in_pixel();
        let (plot, strip) = rest.split_vertically(h as i32 - line);
        strip
            .draw(&Text::new(
                x_title.to_string(),
                (width as i32 / 2, line / 2),
                pen.text(LABEL_PT, Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(err)?;
        rest = plot;
    }
    Ok(rest)
}

/// The legend in rows that fit the width, centred; returns the area under it.
fn legend_strip<DB: DrawingBackend>(
    rest: &DrawingArea<DB, Shift>,
    pen: &Pen,
    legend: &[LegendItem],
) -> DrawResult<DrawingArea<DB, Shift>> {
    let font = pen.text(NOTE_PT, Pos::new(HPos::Left, VPos::Center));
    let (width, _) = rest.dim_in_pixel();
    let swatch_w = pen.px(16.0) as i32;
    let gap = pen.px(5.0) as i32;
    let spacing = pen.px(12.0) as i32;
    let row_h = pen.px(13.0) as i32;
    let mut rows: Vec<Vec<(&LegendItem, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for item in legend {
        let (tw, _) = rest.estimate_text_size(&item.label, &font).map_err(err)?;
        let w = swatch_w + gap + tw as i32;
        let row = rows.last_mut().expect("a row");
        if !row.is_empty() && used + spacing + w > width as i32 - 2 * spacing {
            rows.push(vec![(item, w)]);
            used = w;
        } else {
            used += if row.is_empty() { w } else { spacing + w };
            row.push((item, w));
        }
    }
    let height = row_h * rows.len() as i32 + pen.offset(4.0);
    let (strip, plot) = rest.split_vertically(height);
    pen.mark(class::LEGEND);
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|(_, w)| w).sum::<i32>() + spacing * (row.len() as i32 - 1);
        let mut x = (width as i32 - total) / 2;
        let y = row_h * r as i32 + row_h / 2;
        for (item, w) in row {
            draw_swatch(&strip, pen, item, (x, y), swatch_w)?;
            strip
                .draw(&Text::new(
                    item.label.clone(),
                    (x + swatch_w + gap, y),
                    font.clone(),
                ))
                .map_err(err)?;
            x += w + spacing;
        }
    }
    pen.mark("");
    Ok(plot)
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pen: &Pen,
    item: &LegendItem,
    (x, y): (i32, i32),
    w: i32,
) -> DrawResult {
    let half = pen.offset(4.0);
    let line = pen.stroke(item.colour, 1.5);
    match item.swatch {
        Swatch::Square => area
            .draw(&Rectangle::new(
                [(x + w / 2 - half, y - half), (x + w / 2 + half, y + half)],
                item.colour.filled(),
            ))
            .map_err(err),
        Swatch::Dot => area
            .draw(&Circle::new(
                (x + w / 2, y),
                pen.px(3.0),
                item.colour.filled(),
            ))
            .map_err(err),
        Swatch::LineDot => {
            area.draw(&PathElement::new(vec![(x, y), (x + w, y)], line))
                .map_err(err)?;
            area.draw(&Circle::new(
                (x + w / 2, y),
                pen.px(2.5),
                item.colour.filled(),
            ))
            .map_err(err)
        }
        Swatch::Line => area
            .draw(&PathElement::new(vec![(x, y), (x + w, y)], line))
            .map_err(err),
        Swatch::Dashed => area
            .draw(&DashedPathElement::new(
                vec![(x, y), (x + w, y)],
                pen.px(3.0),
                pen.px(2.0),
                line,
            ))
            .map_err(err),
    }
}

/// One estimate with its confidence interval, at a position along the other axis, in
/// its ad's colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub at: f64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub colour: RGBColor,
}

/// Which way the value axis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orient {
    /// Values along x (dot plots).
    Horizontal,
    /// Values along y.
    Vertical,
}

/// Half the length of a CI's cap, in SVG units (printed size, whatever the data).
pub const CAP: f64 = 2.5;
/// The radius of a point marker, in SVG units.
pub const MARKER: f64 = 2.5;

/// Draws estimates as thin whiskers with small caps (class `ci`) and the point marker on
/// top (class `point`), each in its estimate's colour.
pub fn draw_estimates<DB, X, Y>(
    cc: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    pen: &Pen,
    estimates: &[Estimate],
    orient: Orient,
) -> DrawResult
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let xy = |at: f64, v: f64| match orient {
        Orient::Horizontal => (v, at),
        Orient::Vertical => (at, v),
    };
    // The cap across the whisker, in pixels from its end.
    let c = pen.offset(CAP);
    let cap = match orient {
        Orient::Horizontal => vec![(0, -c), (0, c)],
        Orient::Vertical => vec![(-c, 0), (c, 0)],
    };
    pen.mark(class::CI);
    for e in estimates
        .iter()
        .filter(|e| e.low.is_finite() && e.high.is_finite())
    {
        let line = pen.stroke(e.colour, 0.9);
        cc.draw_series([
            EmptyElement::at(xy(e.at, e.low))
                + PathElement::new(
                    vec![(0, 0), offset(cc, xy(e.at, e.low), xy(e.at, e.high))],
                    line,
                ),
            EmptyElement::at(xy(e.at, e.low)) + PathElement::new(cap.clone(), line),
            EmptyElement::at(xy(e.at, e.high)) + PathElement::new(cap.clone(), line),
        ])
        .map_err(err)?;
    }
    pen.mark(class::POINT);
    cc.draw_series(
        estimates
            .iter()
            .map(|e| Circle::new(xy(e.at, e.value), pen.px(MARKER), e.colour.filled())),
    )
    .map_err(err)?;
    pen.mark("");
    Ok(())
}

/// The pixel offset from `from` to `to` in the chart's coordinates.
fn offset<DB, X, Y>(
    cc: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    from: (f64, f64),
    to: (f64, f64),
) -> (i32, i32)
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let (a, b) = (cc.backend_coord(&from), cc.backend_coord(&to));
    (b.0 - a.0, b.1 - a.1)
}

/// The range of a share axis: all of it, the one given, or (auto) the `values` (the
/// estimates, their bounds, the reference) with a margin, widened to five-point steps.
pub fn share_range(
    values: impl IntoIterator<Item = f64>,
    axis: adskew_core::experiment::figures::AxisRange,
) -> std::ops::Range<f64> {
    use adskew_core::experiment::figures::AxisRange;
    match axis {
        AxisRange::Full => 0.0..1.0,
        AxisRange::Given(lo, hi) => lo..hi,
        AxisRange::Auto => {
            let (lo, hi) = values
                .into_iter()
                .filter(|v| v.is_finite())
                .fold((1.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if lo > hi {
                return 0.0..1.0;
            }
            // A margin of 15% of the spread (at least a point), so no estimate
            // sits on the frame, then out to the next five points.
            let pad = ((hi - lo) * 0.15).max(0.01);
            let lo = (((lo - pad) * 20.0 + 1e-9).floor() / 20.0).max(0.0);
            let hi = (((hi + pad) * 20.0 - 1e-9).ceil() / 20.0)
                .min(1.0)
                .max(lo + 0.05);
            lo..hi
        }
    }
}

/// Whether any interval is shorter than a marker's diameter on an axis spanning `span`
/// over about `plot_px` SVG units, so the marker on top hides it (the caption says so).
pub fn hidden_intervals(estimates: &[Estimate], span: f64, plot_px: f64) -> bool {
    let marker = 2.0 * MARKER / plot_px * span;
    estimates.iter().any(|e| e.high - e.low < marker)
}

/// The caption's note for intervals a marker hides, or nothing.
pub fn hidden_note(hidden: bool) -> &'static str {
    if hidden {
        " (intervals narrower than a marker are hidden by it)"
    } else {
        ""
    }
}

/// A dashed grey line at `value` across the plot (class `reference`): the eligible
/// audience's share.
pub fn draw_reference<DB, X, Y>(
    cc: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    pen: &Pen,
    value: f64,
    orient: Orient,
    span: (f64, f64),
) -> DrawResult
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let points = match orient {
        Orient::Horizontal => vec![(value, span.0), (value, span.1)],
        Orient::Vertical => vec![(span.0, value), (span.1, value)],
    };
    pen.mark(class::REFERENCE);
    cc.draw_series(std::iter::once(DashedPathElement::new(
        points,
        pen.px(4.0),
        pen.px(3.0),
        pen.stroke(GREY, 1.2),
    )))
    .map_err(err)?;
    pen.mark("");
    Ok(())
}

/// Key points at the centres of `n` categories on a `0..n` axis.
pub fn category_centres(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64 + 0.5).collect()
}

/// An axis of `n` categories: values `0..n`, category `i` centred at `i + 0.5`, ticks and
/// grid lines at the centres only (label them with [`category_label`]).
#[derive(Debug, Clone, Copy)]
pub struct Categories(pub usize);

impl Ranged for Categories {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.0.max(1) as f64;
        limit.0 + ((limit.1 - limit.0) as f64 * share + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            category_centres(self.0)
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0.max(1) as f64
    }
}

/// The label of the category whose centre is `v`, or nothing between centres.
pub fn category_label(labels: &[String], v: f64) -> String {
    let i = (v - 0.5).round();
    if (v - 0.5 - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

/// Room for the longest of `labels` at tick size, in SVG units.
pub fn label_room(labels: &[String]) -> f64 {
    // Measured in the font the labels are set in ([`super::font`]).
    let widest = labels
        .iter()
        .map(|l| super::font::width_em(l))
        .fold(super::font::width_em("0000"), f64::max);
    (widest * TICK_PT * SVG_DPI / 72.0 + 10.0).min(170.0)
}

/// `x` as a percentage tick label: "40", "47.5" (no float noise).
pub fn percent_tick(x: &f64) -> String {
    number_tick(&(x * 100.0))
}

/// A number as a tick label, with no more decimals than it has: "2", "0.5", "0.6" (not
/// "0.6000000000000001").
pub fn number_tick(x: &f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.replace('-', "\u{2212}")
    }
}

/// A number with a real minus sign and `digits` decimals.
pub fn signed(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => {
            format!("\u{2212}{rest}")
        }
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// A p-value for a chart, printed as the tables print it ([`crate::words::PrintedP`],
/// with the analysis' floor): "p = 0.031", "p = 2.50 × 10⁻⁷", "p < 10⁻¹⁶".
pub fn chart_p(p: f64, log10_p: f64, floor: f64) -> String {
    crate::words::PrintedP::of(p, Some(log10_p), floor).prose("p")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_stop_at_the_print_floor_like_the_tables() {
        // Underflowed p: the floor, not the log's bound ("p < 10⁻⁹²⁶" before).
        assert_eq!(chart_p(0.0, -926.3, 1e-16), "p < 10⁻¹⁶");
        assert_eq!(chart_p(1e-20, -20.0, 1e-16), "p < 10⁻¹⁶");
        assert_eq!(chart_p(2.5e-7, 2.5e-7f64.log10(), 1e-16), "p = 2.50 × 10⁻⁷");
        assert_eq!(chart_p(2.5e-7, 2.5e-7f64.log10(), 1e-3), "p < 0.001");
        assert_eq!(
            chart_p(9.996e-5, 9.996e-5f64.log10(), 1e-16),
            "p = 1.00 × 10⁻⁴"
        );
        assert_eq!(chart_p(0.0312, -1.5, 1e-16), "p = 0.031");
        assert_eq!(chart_p(f64::NAN, f64::NAN, 1e-16), "p = n/a");
    }

    #[test]
    fn intervals_narrower_than_a_marker_are_said_to_be_hidden() {
        let e = |low: f64, high: f64| Estimate {
            at: 0.5,
            value: (low + high) / 2.0,
            low,
            high,
            colour: BLACK,
        };
        // A marker is 5 units across: on 200 units spanning 20 points, half a point.
        assert!(hidden_intervals(
            &[e(0.40, 0.44), e(0.50, 0.504)],
            0.2,
            200.0
        ));
        assert!(!hidden_intervals(
            &[e(0.40, 0.44), e(0.50, 0.51)],
            0.2,
            200.0
        ));
        assert_eq!(hidden_note(false), "");
    }

    #[test]
    fn tick_labels_have_no_float_noise() {
        assert_eq!(number_tick(&0.6000000000000001), "0.6");
        assert_eq!(number_tick(&2.0), "2");
        assert_eq!(percent_tick(&0.475), "47.5");
        assert_eq!(percent_tick(&0.35000000000000003), "35");
    }

    #[test]
    fn auto_axes_zoom_to_the_data_in_five_point_steps() {
        use adskew_core::experiment::figures::AxisRange;
        assert_eq!(
            share_range([0.47, 0.52, 0.505], AxisRange::Auto),
            0.45..0.55
        );
        assert_eq!(share_range([0.01], AxisRange::Auto), 0.0..0.05);
        assert_eq!(share_range([0.47], AxisRange::Full), 0.0..1.0);
        assert_eq!(share_range([0.47], AxisRange::Given(0.3, 0.7)), 0.3..0.7);
    }

    #[test]
    fn minus_signs_are_minus_signs() {
        assert_eq!(signed(-0.934, 2), "\u{2212}0.93");
        assert_eq!(signed(-0.001, 2), "0.00");
        assert_eq!(signed(0.5, 1), "0.5");
    }

    #[test]
    fn category_labels_sit_at_centres() {
        let labels = vec!["a".to_string(), "b".to_string()];
        assert_eq!(category_centres(2), vec![0.5, 1.5]);
        assert_eq!(category_label(&labels, 1.5), "b");
        assert_eq!(category_label(&labels, 1.0), "");
        assert_eq!(category_label(&labels, 2.5), "");
    }
}
