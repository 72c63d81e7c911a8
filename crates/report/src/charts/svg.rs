//! The one drawing of a chart: an SVG, from which the PNG and the PDF are rendered
//! ([`super::output`]).
//!
//! Plotters writes no attributes of its own, so [`ClassedSvg`] renders each primitive
//! through plotters' SVG backend and adds the class of the mark being drawn. Text it
//! writes itself: in the embedded font's family ([`font::Subset`]), placed with offsets
//! from the font's own metrics (not `ex` units, which browsers and usvg size
//! differently), and measured for layout with the font's advances ([`font::width_em`]),
//! so what plotters lays out is what every renderer draws. SVGs are byte-identical for
//! the same data: nothing in them depends on time, the machine or hash-map order.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::io;
use std::rc::Rc;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};

use super::font::{self, Subset};
use super::style::{err, Draw, DrawResult, Pen, SVG_DPI};

/// A chart's SVG and the font subset embedded in it (which the PNG and PDF render with).
#[derive(Debug, Clone)]
pub struct Svg {
    pub text: String,
    pub font: Subset,
    /// The parts of `text` only the file needs, in order: the embedded font (the
    /// renderers are given it directly) and the white background, an opaque white
    /// rectangle over the whole figure, drawn first.
    pub file_only: Vec<std::ops::Range<usize>>,
}

impl Svg {
    /// The drawing the PNG and the PDF are rendered from: the text without its file-only
    /// parts. The PNG's pixels start white (a fill of bytes, where resvg would paint the
    /// rectangle through its blending pipeline, a tenth of a figure's time) and a PDF page
    /// is white paper; the font, half the text, would be parsed only to be skipped. The SVG
    /// file keeps both, for viewers with dark backgrounds and without the font.
    pub fn drawing(&self) -> std::borrow::Cow<'_, str> {
        if self.file_only.is_empty() {
            return self.text.as_str().into();
        }
        let mut out = String::with_capacity(self.text.len());
        let mut from = 0;
        for r in &self.file_only {
            out.push_str(&self.text[from..r.start]);
            from = r.end;
        }
        out.push_str(&self.text[from..]);
        out.into()
    }
}

/// Plotters' font sizes are 1.24 times the em size its SVG backend writes
/// ([`Pen::font`] scales by it); the text written here keeps that convention.
const PLOTTERS_SIZE: f64 = 1.24;

/// Renders a chart as an SVG document with its font embedded.
pub fn render(chart: &impl Draw) -> DrawResult<Svg> {
    let size = (chart.width().svg_px(), chart.height());
    let class = Rc::new(Cell::new(""));
    let mut body = String::new();
    let mut chars = BTreeSet::new();
    {
        let backend = ClassedSvg {
            out: &mut body,
            chars: &mut chars,
            size,
            class: class.clone(),
        };
        let area = backend.into_drawing_area();
        let pen = Pen::for_svg(class);
        chart
            .draw(&area, &pen)
            .and_then(|()| area.present().map_err(err))?;
    }
    let font = Subset::of(&chars);
    let family = font.font_family();
    // The size in inches, so the figure is placed at its printed size; the drawing itself
    // is in CSS pixels (the view box).
    let mut text = format!(
        "<svg width=\"{}in\" height=\"{:.4}in\" viewBox=\"0 0 {} {}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        chart.width().inches(),
        size.1 as f64 / SVG_DPI,
        size.0,
        size.1
    );
    let mut file_only = Vec::new();
    if !chars.is_empty() {
        let start = text.len();
        text.push_str(&font.style_element());
        file_only.push(start..text.len());
    }
    // The background `frame` paints first, as plotters writes a filled rectangle.
    let white = format!(
        "<rect shape-rendering=\"crispEdges\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" opacity=\"1\" fill=\"#FFFFFF\" stroke=\"none\"/>\n",
        size.0, size.1
    );
    if body.starts_with(&white) {
        file_only.push(text.len()..text.len() + white.len());
    }
    text.push_str(&body.replace(FAMILY_SLOT, &family));
    text.push_str("</svg>\n");
    Ok(Svg {
        text,
        font,
        file_only,
    })
}

/// Where text elements name their font family until the subset (and so its name) is
/// known at the end of the drawing.
const FAMILY_SLOT: &str = "\u{0}family\u{0}";

/// Plotters' SVG backend, one primitive at a time, with the class of the current mark
/// added to each element, and text written in the embedded font.
struct ClassedSvg<'a> {
    out: &'a mut String,
    /// Every character of the text drawn: the subset to embed.
    chars: &'a mut BTreeSet<char>,
    size: (u32, u32),
    class: Rc<Cell<&'static str>>,
}

type SvgResult = std::result::Result<(), DrawingErrorKind<io::Error>>;

impl ClassedSvg<'_> {
    /// Draws with a fresh plotters SVG backend and keeps its elements, classed; `crisp`
    /// marks them `shape-rendering="crispEdges"` (see [`Edges`]).
    fn via(&mut self, edges: Edges, f: impl FnOnce(&mut SVGBackend<'_>) -> SvgResult) -> SvgResult {
        let mut tmp = String::new();
        {
            let mut b = SVGBackend::with_string(&mut tmp, self.size);
            f(&mut b)?;
            b.present()?;
        }
        let body = tmp.split_once('\n').map_or("", |(_, rest)| rest);
        let body = body.strip_suffix("</svg>\n").unwrap_or(body);
        let class = self.class.get();
        let mut attributes = String::new();
        if !class.is_empty() {
            attributes.push_str(&format!(" class=\"{class}\""));
        }
        if edges == Edges::Crisp {
            attributes.push_str(" shape-rendering=\"crispEdges\"");
        }
        push_with(self.out, body, &attributes);
        Ok(())
    }
}

/// How a shape's edges are drawn. Rectangles and lines that run along the axes (bars,
/// grid lines, axes, ticks, CI bars) are drawn crisp: on the pixel grid they look the
/// same, and rasterising them without anti-aliasing takes a fraction of the time (a
/// sixth of a million-row report's). Curves, slanted lines and text keep anti-aliasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edges {
    Smooth,
    Crisp,
}

impl Edges {
    /// Crisp if every segment of the line through `points` is horizontal or vertical.
    fn of_line(points: &[BackendCoord]) -> Edges {
        let along_axes = points
            .windows(2)
            .all(|s| s[0].0 == s[1].0 || s[0].1 == s[1].1);
        if along_axes {
            Edges::Crisp
        } else {
            Edges::Smooth
        }
    }
}

/// Appends SVG elements (one tag per line, as plotters writes them) with `attributes`
/// (each with its leading space) added to every opening tag.
fn push_with(out: &mut String, body: &str, attributes: &str) {
    for line in body.split_inclusive('\n') {
        let opening = line.starts_with('<') && !line.starts_with("</");
        match line.find([' ', '>', '/']) {
            Some(at) if opening && !attributes.is_empty() => {
                out.push_str(&line[..at]);
                out.push_str(attributes);
                out.push_str(&line[at..]);
            }
            _ => out.push_str(line),
        }
    }
}

/// `value` escaped for XML text and attributes, as plotters escapes it.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// How far below the anchor point the baseline goes, in ems: a top anchor hangs the
/// capitals from it, a centred one centres the lower-case letters on it, a bottom one
/// keeps the descenders above it.
fn baseline_shift(v: VPos) -> f64 {
    match v {
        VPos::Top => font::cap_height_em(),
        VPos::Center => font::x_height_em() / 2.0,
        VPos::Bottom => -font::descent_em(),
    }
}

/// A number as SVG writes it: at most three decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

impl DrawingBackend for ClassedSvg<'_> {
    type ErrorType = io::Error;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> SvgResult {
        Ok(())
    }

    fn present(&mut self) -> SvgResult {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> SvgResult {
        self.via(Edges::Crisp, |b| b.draw_pixel(point, color))
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> SvgResult {
        self.via(Edges::of_line(&[from, to]), |b| {
            b.draw_line(from, to, style)
        })
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> SvgResult {
        self.via(Edges::Crisp, |b| {
            b.draw_rect(upper_left, bottom_right, style, fill)
        })
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> SvgResult {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        self.via(Edges::of_line(&points), |b| b.draw_path(points, style))
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> SvgResult {
        self.via(Edges::Smooth, |b| {
            b.draw_circle(center, radius, style, fill)
        })
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> SvgResult {
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        let closed = [points.as_slice(), &points[..points.len().min(1)]].concat();
        self.via(Edges::of_line(&closed), |b| b.fill_polygon(points, style))
    }

    /// A `<text>` element in the embedded font, its content on a line of its own (as
    /// plotters writes it, which tests and readers rely on).
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        (x, y): BackendCoord,
    ) -> SvgResult {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        self.chars.extend(text.chars());
        let size = style.size() / PLOTTERS_SIZE;
        let anchor = match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Center => "middle",
            HPos::Right => "end",
        };
        let (r, g, b) = colour.rgb;
        let out = &mut *self.out;
        out.push_str("<text");
        let class = self.class.get();
        if !class.is_empty() {
            out.push_str(&format!(" class=\"{class}\""));
        }
        out.push_str(&format!(
            " x=\"{x}\" y=\"{y}\" dy=\"{}\" text-anchor=\"{anchor}\" font-family=\"{FAMILY_SLOT}\" font-size=\"{}\" fill=\"#{r:02X}{g:02X}{b:02X}\"",
            num(baseline_shift(style.anchor().v_pos) * size),
            num(size),
        ));
        if colour.alpha < 1.0 {
            out.push_str(&format!(" opacity=\"{}\"", num(colour.alpha)));
        }
        let degrees = match style.transform() {
            FontTransform::Rotate90 => Some(90),
            FontTransform::Rotate180 => Some(180),
            FontTransform::Rotate270 => Some(270),
            _ => None,
        };
        if let Some(d) = degrees {
            out.push_str(&format!(" transform=\"rotate({d}, {x}, {y})\""));
        }
        out.push_str(">\n");
        push_escaped(out, text);
        out.push_str("\n</text>\n");
        Ok(())
    }

    /// The size the text is drawn at: its advance width and the font's line height.
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> std::result::Result<(u32, u32), DrawingErrorKind<io::Error>> {
        let size = style.size() / PLOTTERS_SIZE;
        let (w, h) = (font::width_em(text) * size, font::line_em() * size);
        Ok(match style.transform() {
            FontTransform::Rotate90 | FontTransform::Rotate270 => {
                (h.ceil() as u32, w.ceil() as u32)
            }
            _ => (w.ceil() as u32, h.ceil() as u32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::style::{class, Width};
    use base64::Engine;
    use plotters::coord::Shift;
    use plotters::style::text_anchor::Pos;

    /// A chart of a few words, as the chart kinds write them.
    pub(crate) struct Words(pub &'static [&'static str]);

    impl Draw for Words {
        fn width(&self) -> Width {
            Width::OneColumn
        }

        fn height(&self) -> u32 {
            120
        }

        fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, pen: &Pen) -> DrawResult {
            area.fill(&WHITE).map_err(err)?;
            pen.mark(class::ANNOTATION);
            for (i, w) in self.0.iter().enumerate() {
                let pos = Pos::new(HPos::Left, VPos::Center);
                area.draw(&Text::new(*w, (10, 20 + 30 * i as i32), pen.text(8.0, pos)))
                    .map_err(err)?;
            }
            Ok(())
        }
    }

    #[test]
    fn text_is_set_in_the_font_the_svg_embeds() {
        const WORDS: [&str; 3] = ["reached launch", "p = 1.7 × 10⁻⁸⁸", "52.1% <é>"];
        let words = WORDS;
        let svg = render(&Words(&WORDS)).unwrap();
        let (family, data) = {
            let rule = svg
                .text
                .split("@font-face { font-family: \"")
                .nth(1)
                .unwrap();
            let (family, rest) = rule.split_once('"').unwrap();
            let data = rest
                .split("base64,")
                .nth(1)
                .unwrap()
                .split(')')
                .next()
                .unwrap();
            (family.to_string(), data)
        };
        assert_eq!(family, svg.font.family);
        let ttf = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(
            ttf, svg.font.ttf,
            "the PNG and PDF render with the font the SVG carries"
        );
        let face = ttf_parser::Face::parse(&ttf, 0).unwrap();
        let texts: Vec<&str> = svg
            .text
            .lines()
            .filter(|l| l.starts_with("<text"))
            .collect();
        assert_eq!(texts.len(), words.len());
        for (line, word) in texts.iter().zip(words) {
            assert!(
                line.contains(&format!(
                    "font-family=\"{family}, DejaVu Sans, sans-serif\""
                )),
                "{line}"
            );
            assert!(line.starts_with("<text class=\"annotation\""), "{line}");
            for c in word.chars() {
                assert!(
                    face.glyph_index(c).is_some(),
                    "{c:?} is in the embedded font"
                );
            }
        }
        assert!(
            svg.text.contains("\n52.1% &lt;é&gt;\n</text>\n"),
            "escaped, on its own line"
        );
    }

    #[test]
    fn the_file_keeps_its_font_and_background_and_the_drawing_leaves_them_to_the_renderers() {
        let svg = render(&Words(&["reached"])).unwrap();
        let (white, font) = ("fill=\"#FFFFFF\"", "@font-face");
        let [style, background] = &svg.file_only[..] else {
            panic!("the font and the background are found: {:?}", svg.file_only);
        };
        assert!(svg.text[style.clone()].contains(font));
        assert!(svg.text[background.clone()].contains(white));
        let drawing = svg.drawing();
        assert!(svg.text.contains(white) && !drawing.contains(white));
        assert!(svg.text.contains(font) && !drawing.contains(font));
        // Only those are left out.
        assert_eq!(
            drawing.len(),
            svg.text.len() - style.len() - background.len()
        );
        assert!(drawing.contains("\nreached\n</text>"));
    }

    #[test]
    fn layout_measures_text_in_the_font_at_its_size() {
        let words = Words(&["reached"]);
        let size = 8.0 * SVG_DPI / 72.0;
        let (mut out, mut chars) = (String::new(), BTreeSet::new());
        let area = ClassedSvg {
            out: &mut out,
            chars: &mut chars,
            size: (336, 120),
            class: Rc::new(Cell::new("")),
        }
        .into_drawing_area();
        let pen = Pen::for_svg(Rc::new(Cell::new("")));
        let (w, h) = area
            .estimate_text_size(words.0[0], &pen.text(8.0, Pos::new(HPos::Left, VPos::Top)))
            .unwrap();
        assert_eq!(w, (font::width_em("reached") * size).ceil() as u32);
        assert_eq!(h, (font::line_em() * size).ceil() as u32);
    }

    #[test]
    fn classes_go_on_opening_tags_only() {
        let mut out = String::new();
        push_with(
            &mut out,
            "<circle cx=\"1\"/>\n<text x=\"2\">\nwomen &lt; men\n</text>\n",
            " class=\"point\"",
        );
        assert_eq!(
            out,
            "<circle class=\"point\" cx=\"1\"/>\n<text class=\"point\" x=\"2\">\nwomen &lt; men\n</text>\n"
        );
        let mut plain = String::new();
        push_with(&mut plain, "<line x1=\"0\"/>\n", "");
        assert_eq!(plain, "<line x1=\"0\"/>\n");
    }

    #[test]
    fn lines_along_the_axes_are_crisp_and_others_smooth() {
        assert_eq!(Edges::of_line(&[(0, 0), (5, 0), (5, 9)]), Edges::Crisp);
        assert_eq!(Edges::of_line(&[(0, 0), (5, 1)]), Edges::Smooth);
        assert_eq!(Edges::of_line(&[(3, 3)]), Edges::Crisp);
    }

    #[test]
    fn numbers_are_short_and_never_negative_zero() {
        assert_eq!(num(2.0), "2");
        assert_eq!(num(2.73046875), "2.73");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(-1.5), "-1.5");
    }
}
