//! The PNG and the PDF of a chart, both rendered from its SVG ([`super::svg`]) without its
//! embedded font and white background (`Svg::drawing`): usvg reads it once, with the font subset embedded in it as its only font (no system fonts),
//! resvg rasterises that tree at 300 dpi and svg2pdf writes it as a PDF at the printed
//! size, text kept as text in the same font.

use std::sync::Arc;

use resvg::tiny_skia;

use super::style::{ChartError, DrawResult, PNG_DPI, SVG_DPI};
use super::svg::Svg;

/// A chart's SVG read by usvg, ready to render.
pub struct Tree(usvg::Tree);

impl Tree {
    /// Reads the SVG with its embedded subset as the one font.
    pub fn of(svg: &Svg) -> DrawResult<Tree> {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(svg.font.ttf.clone());
        let options = usvg::Options {
            font_family: super::font::FAMILY.to_string(),
            fontdb: Arc::new(fonts),
            ..usvg::Options::default()
        };
        usvg::Tree::from_str(&svg.drawing(), &options)
            .map(Tree)
            .map_err(ChartError::Svg)
    }

    /// The PNG at 300 dpi, with a `pHYs` chunk saying so. Rendered in strips
    /// ([`super::strips`]: about 1 MiB, cut where nothing anti-aliased would be), each
    /// filtered and compressed as it comes: the strips stay in a core's cache, and a tall
    /// figure (a cost chart of 150 ads is 16,719 pixels high) needs no more memory than a
    /// small one.
    pub fn png(&self) -> DrawResult<Vec<u8>> {
        let scale = (PNG_DPI / SVG_DPI) as f32;
        let size = self.0.size();
        let (w, h) = (
            (size.width() * scale).round() as u32,
            (size.height() * scale).round() as u32,
        );
        let mut pixels = Pixels::new(w as usize, h as usize);
        self.each_strip(scale, (w, h), |rows| pixels.add(rows))?;
        encode_png(&pixels.finish()?, w, h, PNG_DPI)
    }

    /// Draws the figure `w` × `h` pixels at `scale` strip by strip, top to bottom, and
    /// hands each strip's rows (premultiplied RGBA on white) to `each`.
    fn each_strip(
        &self,
        scale: f32,
        (w, h): (u32, u32),
        mut each: impl FnMut(&[u8]) -> DrawResult,
    ) -> DrawResult {
        let strips = super::strips::strips(&self.0, scale, w, h);
        let tallest = strips.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
        STRIP.with_borrow_mut(|strip| {
            strip.resize(strip.len().max(4 * w as usize * tallest), 0);
            for rows in strips {
                let bytes = &mut strip[..4 * w as usize * rows.len()];
                let mut pixmap = tiny_skia::PixmapMut::from_bytes(bytes, w, rows.len() as u32)
                    .ok_or_else(|| ChartError::Draw(format!("an image of {w}×{h} pixels")))?;
                // Opaque white, premultiplied: every byte 255 (the drawing has no
                // background of its own, `Svg::drawing`).
                pixmap.data_mut().fill(255);
                let shift = tiny_skia::Transform::from_scale(scale, scale)
                    .post_translate(0.0, -(rows.start as f32));
                resvg::render(&self.0, shift, &mut pixmap);
                each(pixmap.data_mut())?;
            }
            Ok(())
        })
    }

    /// A one-page PDF at the printed size, the font subset into it and text kept as text.
    ///
    /// Charts use one face (DejaVu Sans, no bold): svg2pdf orders the fonts of a page by
    /// a hash map, so a second face would make the PDF's bytes differ from run to run.
    pub fn pdf(&self) -> DrawResult<Vec<u8>> {
        svg2pdf::to_pdf(
            &self.0,
            svg2pdf::ConversionOptions::default(),
            // SVG units are CSS pixels: 96 to the inch.
            svg2pdf::PageOptions {
                dpi: SVG_DPI as f32,
            },
        )
        .map_err(|e| ChartError::Pdf(e.to_string()))
    }
}

thread_local! {
    /// Each worker's strip, kept from one figure to the next (a fresh one per figure
    /// cost more in page faults than the drawing of a small figure).
    static STRIP: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A PNG's image data as it is rendered: each row of premultiplied RGBA pixels, opaque
/// on white, written as RGB with PNG's Up filter (each byte less the one above it: the
/// rows of a chart repeat, so most become zeros) and compressed with fdeflate, the
/// deflate made for PNGs (fast, and the same bytes for the same pixels).
struct Pixels {
    /// The row above, as RGB.
    above: Vec<u8>,
    /// The row being added, as RGB.
    rgb: Vec<u8>,
    /// The filtered row: the filter's number, then the differences.
    row: Vec<u8>,
    /// Whether the differences in `row` are all zero.
    zeros: bool,
    zlib: fdeflate::Compressor<Vec<u8>>,
}

fn io_error(e: std::io::Error) -> ChartError {
    ChartError::Png(png::EncodingError::from(e))
}

impl Pixels {
    /// A PNG `width` pixels wide and about `height` high.
    fn new(width: usize, height: usize) -> Pixels {
        let mut row = vec![0; 1 + 3 * width];
        row[0] = 2; // Up
        Pixels {
            above: vec![0; 3 * width],
            rgb: vec![0; 3 * width],
            row,
            zeros: false,
            // Room for a typical chart's compression (one byte in eight), reserved and so
            // not yet touched, to spare the copies of a growing buffer.
            zlib: fdeflate::Compressor::new(Vec::with_capacity(3 * width * height / 8))
                .expect("writing to memory"),
        }
    }

    /// Adds whole rows of RGBA pixels. A row equal to the one above it (most rows of a
    /// chart: margins, bar interiors) is all zeros after the filter and is not converted;
    /// others take two plain loops over slices, which the compiler vectorises.
    fn add(&mut self, rgba: &[u8]) -> DrawResult {
        let stride = 4 * self.rgb.len() / 3;
        let mut above: Option<&[u8]> = None;
        for line in rgba.chunks_exact(stride) {
            if above == Some(line) {
                if !self.zeros {
                    self.row[1..].fill(0);
                    self.zeros = true;
                }
            } else {
                rgba_to_rgb(line, &mut self.rgb);
                for ((out, now), above) in self.row[1..].iter_mut().zip(&self.rgb).zip(&self.above)
                {
                    *out = now.wrapping_sub(*above);
                }
                std::mem::swap(&mut self.rgb, &mut self.above);
                self.zeros = false;
            }
            self.zlib.write_data(&self.row).map_err(io_error)?;
            above = Some(line);
        }
        Ok(())
    }

    /// The zlib stream of the image data.
    fn finish(self) -> DrawResult<Vec<u8>> {
        self.zlib.finish().map_err(io_error)
    }
}

/// Copies RGBA pixels to RGB, four pixels at a time (fixed-size blocks the compiler
/// turns into a few moves each, where a pixel at a time was a tenth of the PNG's time).
fn rgba_to_rgb(rgba: &[u8], rgb: &mut [u8]) {
    let blocks = rgba.chunks_exact(16).zip(rgb.chunks_exact_mut(12));
    let whole = blocks.len();
    for (from, to) in blocks {
        let (from, to): (&[u8; 16], &mut [u8; 12]) = (
            from.try_into().expect("16 bytes"),
            to.try_into().expect("12 bytes"),
        );
        for p in 0..4 {
            to[3 * p] = from[4 * p];
            to[3 * p + 1] = from[4 * p + 1];
            to[3 * p + 2] = from[4 * p + 2];
        }
    }
    let tail = rgba[16 * whole..]
        .chunks_exact(4)
        .zip(rgb[12 * whole..].chunks_exact_mut(3));
    for (from, to) in tail {
        to.copy_from_slice(&from[..3]);
    }
}

/// A PNG file: 8-bit RGB, `w` × `h` pixels whose image data is `zlib`, with a `pHYs`
/// chunk at `dpi` so image programs and LaTeX place it at its printed size.
fn encode_png(zlib: &[u8], w: u32, h: u32, dpi: f64) -> DrawResult<Vec<u8>> {
    let mut out = Vec::with_capacity(zlib.len() + 128);
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let per_metre = (dpi / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let mut png = encoder.write_header().map_err(ChartError::Png)?;
    png.write_chunk(png::chunk::IDAT, zlib)
        .map_err(ChartError::Png)?;
    png.finish().map_err(ChartError::Png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::font::{self, Subset};

    /// Where the ink of `text` set at `x` in DejaVu Sans at `size` begins and ends, from
    /// the advances layout adds up and the first and last glyphs' outlines.
    fn ink(text: &str, x: f64, size: f64) -> (f64, f64) {
        let face = ttf_parser::Face::parse(dejavu::sans::regular(), 0).unwrap();
        let em = face.units_per_em() as f64;
        let bbox = |c: char| {
            face.glyph_bounding_box(face.glyph_index(c).unwrap())
                .unwrap()
        };
        let (first, last) = (text.chars().next().unwrap(), text.chars().last().unwrap());
        let before_last = font::width_em(text) - font::width_em(&last.to_string());
        (
            x + bbox(first).x_min as f64 / em * size,
            x + (before_last + bbox(last).x_max as f64 / em) * size,
        )
    }

    #[test]
    fn text_is_rendered_where_layout_measured_it() {
        // "AV", "To" and "fi" are where a renderer would kern or ligate.
        for text in ["reached", "AVAWAY To fi", "p = 1.7 × 10⁻⁸⁸"] {
            let size = 100.0;
            let font = Subset::of(&text.chars().collect());
            let svg = Svg {
                text: format!(
                    "<svg width=\"2000\" height=\"200\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"150\" font-family=\"{}\" font-size=\"{size}\">{text}</text></svg>",
                    font.font_family()
                ),
                font,
                file_only: Vec::new(),
            };
            let tree = Tree::of(&svg).unwrap();
            let Some(usvg::Node::Text(drawn)) = tree.0.root().children().first() else {
                panic!("{text}: a text node");
            };
            // The advances: where usvg laid the text out.
            let laid = drawn.bounding_box();
            let width = font::width_em(text) * size;
            assert!((laid.left() as f64 - 10.0).abs() < 0.01, "{text}: {laid:?}");
            assert!(
                (laid.width() as f64 - width).abs() < 0.01,
                "{text}: {laid:?} vs {width}"
            );
            // The ink: the glyphs' outlines where those advances put them.
            let drawn = drawn.flattened().abs_bounding_box();
            let (left, right) = ink(text, 10.0, size);
            assert!(
                (drawn.left() as f64 - left).abs() < 0.1,
                "{text}: {} vs {left}",
                drawn.left()
            );
            assert!(
                (drawn.right() as f64 - right).abs() < 0.1,
                "{text}: {} vs {right}",
                drawn.right()
            );
        }
    }

    #[test]
    fn pngs_say_300_dpi_and_decode_to_their_pixels() {
        // Three by three: white, red, blue, and the same row again twice (all zeros after
        // the filter, the last one not even converted).
        let row = [255, 255, 255, 255, 255, 0, 0, 255, 0, 0, 255, 255];
        let mut pixels = Pixels::new(3, 2);
        pixels.add(&row).unwrap();
        pixels.add(&[row, row].concat()).unwrap();
        let png = encode_png(&pixels.finish().unwrap(), 3, 3, 300.0).unwrap();
        let at = png.windows(4).position(|w| w == b"pHYs").unwrap();
        assert_eq!(&png[at + 4..at + 8], &11811u32.to_be_bytes());
        assert_eq!(png[at + 12], 1, "unit: metre");
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        assert_eq!((reader.info().width, reader.info().height), (3, 3));
        let mut rgb = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut rgb).unwrap();
        let once = [255, 255, 255, 255, 0, 0, 0, 0, 255];
        assert_eq!(rgb, [once, once, once].concat());
    }

    /// A figure taller than a strip, with text, circles and crisp bars on every band of
    /// rows, a slanted line, a rotated label across bands and a crisp grid line through
    /// them all: its strips put together differ from the figure drawn whole by at most one
    /// of a pixel's 16 anti-aliasing samples (rounding of the strip's offset), never by
    /// the seam a cut through a drawing leaves (4 samples along the cut).
    #[test]
    fn strips_put_together_are_the_figure_drawn_whole() {
        let mut body = String::new();
        for i in 0..40 {
            let y = 12 + 15 * i;
            body += &format!(
                "<text x=\"20\" y=\"{y}\" font-size=\"11\">Row {i}: reached 1,234 people</text>\
                 <circle cx=\"400\" cy=\"{y}\" r=\"4\" fill=\"#D55E00\"/>\
                 <rect shape-rendering=\"crispEdges\" x=\"450\" y=\"{}\" width=\"{}\" height=\"9\" fill=\"#0072B2\"/>",
                y - 8,
                20 + 5 * i
            );
        }
        body += "<polyline fill=\"none\" stroke=\"#000\" points=\"300,2 330,9 360,4\"/>\
                 <line shape-rendering=\"crispEdges\" stroke=\"#E8E8E8\" x1=\"440\" y1=\"0\" x2=\"440\" y2=\"620\"/>\
                 <text transform=\"rotate(-90 680 300)\" x=\"680\" y=\"300\" font-size=\"12\">Share of women</text>";
        let chars = body.chars().collect();
        let font = Subset::of(&chars);
        let text = format!(
            "<svg width=\"700\" height=\"620\" xmlns=\"http://www.w3.org/2000/svg\" \
             font-family=\"{}\">{body}</svg>",
            font.font_family()
        );
        let tree = Tree::of(&Svg {
            text,
            font,
            file_only: Vec::new(),
        })
        .unwrap();
        let scale = (PNG_DPI / SVG_DPI) as f32;
        let (w, h) = (2188, 1938);
        let strips = crate::charts::strips::strips(&tree.0, scale, w, h);
        assert!(strips.len() >= 6, "{strips:?}");
        let mut whole = tiny_skia::Pixmap::new(w, h).unwrap();
        whole.data_mut().fill(255);
        resvg::render(
            &tree.0,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut whole.as_mut(),
        );
        let mut stripped = Vec::new();
        tree.each_strip(scale, (w, h), |rows| {
            stripped.extend_from_slice(rows);
            Ok(())
        })
        .unwrap();
        let worst = stripped
            .iter()
            .zip(whole.data())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(16), "a pixel differs by {worst:?} levels");
    }

    #[test]
    fn rgba_becomes_rgb_whatever_the_width() {
        for width in [1, 3, 4, 5, 9] {
            let rgba: Vec<u8> = (0..4 * width as u8).collect();
            let mut rgb = vec![0; 3 * width];
            rgba_to_rgb(&rgba, &mut rgb);
            let expected: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            assert_eq!(rgb, expected, "{width} pixels");
        }
    }
}
