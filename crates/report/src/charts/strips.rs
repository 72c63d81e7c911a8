//! Where a figure's PNG is cut into strips: between rows that no anti-aliased drawing
//! crosses, so that the strips put together look like the figure drawn whole.
//!
//! A strip of about 1 MiB, or an eighth of a taller figure ([`MOST_STRIPS`]), stays in a
//! core's cache while it is filled white, drawn, compared row by row and filtered: faster
//! than a whole figure (a 2,100 × 938 figure is 7.9 MB: the
//! Ali et al. example's run took ~4 ms less), and a strip of bounded size is what lets a
//! figure of any height render in bounded memory (a cost chart of 150 ads is 16,719 pixels
//! high). But tiny-skia draws a curve or a slanted edge cut by a strip's edge differently
//! from the same one drawn whole: the samples of the clipped supersampled row are lost,
//! and pixels along the seam came out up to 64 levels (4 of a pixel's 16 samples) apart.
//! So a strip ends only where no anti-aliased drawing would be cut; a crisp axis-aligned
//! shape (bars, grid lines, axes: drawn without anti-aliasing, each pixel in or out by its
//! centre) may be cut anywhere. Only when no such row exists within [`MAX_STRIP_BYTES`] is
//! a figure cut through its drawing. What remains is the strip's offset, which moves every
//! coordinate by far less than a pixel in rounding: a pixel may differ from the whole
//! drawing by one sample of 16 (`output` tests).

use std::ops::Range;

use resvg::tiny_skia;

/// The size a strip aims at (RGBA): one core's share of the cache.
const STRIP_BYTES: usize = 1 << 20;

/// The most a strip may take: when a figure is tall, or no row nearer is free to cut at.
const MAX_STRIP_BYTES: usize = 8 << 20;

/// How many strips a figure is cut into at most while they can stay under
/// [`MAX_STRIP_BYTES`]: resvg walks the whole drawing again for each strip, so a tall
/// figure with many marks takes fewer, larger strips (a 150-ad cost chart cut into
/// 1 MiB strips made a million-row report 0.15 s slower).
const MOST_STRIPS: u32 = 8;

/// Rows either side of a drawing's bounding box that a cut also avoids (anti-aliasing
/// reaches a pixel beyond the box, and the box is rounded outwards).
const MARGIN_ROWS: i64 = 2;

/// The strips of a figure `w` × `h` pixels drawn from `tree` at `scale`, top to bottom.
pub(super) fn strips(tree: &usvg::Tree, scale: f32, w: u32, h: u32) -> Vec<Range<u32>> {
    let row_bytes = 4 * w.max(1) as usize;
    let most = (MAX_STRIP_BYTES / row_bytes).max(1) as u32;
    let aim = (h / MOST_STRIPS).clamp((STRIP_BYTES / row_bytes).max(1) as u32, most);
    let mut uncuttable = vec![false; h as usize + 1];
    mark_group(tree.root(), scale, &mut uncuttable);
    let cuttable = |r: u32| !uncuttable[r as usize];
    let mut out = Vec::new();
    let mut top = 0;
    while top < h {
        let end = if h - top <= aim {
            h
        } else {
            // The last free row within the aim (the strip as tall as it may be), else the
            // first beyond it, else a cut through the drawing at the most a strip may take.
            let within = (top + 1..=top + aim).rev().find(|&r| cuttable(r));
            let beyond = || (top + aim + 1..=(top + most).min(h)).find(|&r| cuttable(r));
            within
                .or_else(beyond)
                .unwrap_or_else(|| (top + most).min(h))
        };
        out.push(top..end);
        top = end;
    }
    out
}

/// Marks the rows a cut must not fall on (a cut at `r` separates rows `r - 1` and `r`)
/// for everything in `group` that a cut would change.
fn mark_group(group: &usvg::Group, scale: f32, uncuttable: &mut [bool]) {
    for node in group.children() {
        match node {
            usvg::Node::Group(g) if is_layer(g) => {
                mark(g.abs_layer_bounding_box().to_rect(), scale, uncuttable)
            }
            usvg::Node::Group(g) => mark_group(g, scale, uncuttable),
            usvg::Node::Path(p) if cuts_cleanly(p) => {}
            usvg::Node::Path(p) => mark(p.abs_stroke_bounding_box(), scale, uncuttable),
            // Its layout box and the ink of the glyphs drawn, which may reach beyond it.
            usvg::Node::Text(t) => {
                mark(t.abs_stroke_bounding_box(), scale, uncuttable);
                mark_group(t.flattened(), scale, uncuttable);
            }
            usvg::Node::Image(i) => mark(i.abs_bounding_box(), scale, uncuttable),
        }
    }
}

/// A group drawn on a layer of its own (clipped, masked, filtered or translucent), which
/// a cut would change as a whole.
fn is_layer(g: &usvg::Group) -> bool {
    g.clip_path().is_some()
        || g.mask().is_some()
        || !g.filters().is_empty()
        || g.opacity() != usvg::Opacity::ONE
}

/// Whether a cut anywhere leaves the path's pixels as they are: drawn without
/// anti-aliasing, and made only of horizontal and vertical lines.
fn cuts_cleanly(path: &usvg::Path) -> bool {
    if path.rendering_mode().use_shape_antialiasing() {
        return false;
    }
    let t = path.abs_transform();
    let round = |s: &usvg::Stroke| {
        s.linecap() == usvg::LineCap::Round || s.linejoin() == usvg::LineJoin::Round
    };
    if t.kx != 0.0 || t.ky != 0.0 || path.stroke().is_some_and(round) {
        return false;
    }
    let straight = |a: tiny_skia::Point, b: tiny_skia::Point| a.x == b.x || a.y == b.y;
    let (mut start, mut last) = (None, None);
    for segment in path.data().segments() {
        let (from, to) = match segment {
            tiny_skia::PathSegment::MoveTo(p) => {
                (start, last) = (Some(p), Some(p));
                continue;
            }
            tiny_skia::PathSegment::LineTo(p) => (last, p),
            tiny_skia::PathSegment::Close => match start {
                Some(p) => (last, p),
                None => continue,
            },
            tiny_skia::PathSegment::QuadTo(..) | tiny_skia::PathSegment::CubicTo(..) => {
                return false
            }
        };
        if !from.is_some_and(|f| straight(f, to)) {
            return false;
        }
        last = Some(to);
    }
    true
}

/// Marks the rows a cut through `rect` (in SVG units) would fall on.
fn mark(rect: usvg::Rect, scale: f32, uncuttable: &mut [bool]) {
    let top = (rect.top() * scale).floor() as i64 - MARGIN_ROWS;
    let bottom = (rect.bottom() * scale).ceil() as i64 + MARGIN_ROWS;
    let rows = uncuttable.len() as i64;
    for r in (top + 1).max(0)..bottom.min(rows) {
        uncuttable[r as usize] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(body: &str) -> usvg::Tree {
        let svg = format!(
            "<svg width=\"700\" height=\"1000\" xmlns=\"http://www.w3.org/2000/svg\">{body}</svg>"
        );
        usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap()
    }

    /// The strips cover the figure in order, none over the most a strip may take.
    fn check(strips: &[Range<u32>], h: u32, most: u32) {
        assert_eq!(strips.first().map(|s| s.start), Some(0));
        assert_eq!(strips.last().map(|s| s.end), Some(h));
        for pair in strips.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert!(strips
            .iter()
            .all(|s| !s.is_empty() && s.len() as u32 <= most));
    }

    #[test]
    fn crisp_bars_and_grid_lines_are_cut_anywhere_curves_and_slants_are_not() {
        let (w, h, scale) = (2188, 3125, 3.125);
        let most = (MAX_STRIP_BYTES / (4 * w as usize)) as u32;
        let aim = h / MOST_STRIPS;
        let crisp = "<rect shape-rendering=\"crispEdges\" x=\"10\" y=\"0\" width=\"50\" \
                     height=\"1000\"/><line shape-rendering=\"crispEdges\" stroke=\"#000\" \
                     x1=\"100\" y1=\"0\" x2=\"100\" y2=\"1000\"/>";
        let even = strips(&tree(crisp), scale, w, h);
        check(&even, h, most);
        assert!(even[..even.len() - 1].iter().all(|s| s.len() as u32 == aim));
        // A circle across the first cut moves it above the circle.
        let circle = format!("{crisp}<circle cx=\"300\" cy=\"125\" r=\"5\"/>");
        let moved = strips(&tree(&circle), scale, w, h);
        check(&moved, h, most);
        let (top, bottom) = ((120.0 * scale) as u32 - 2, (130.0 * scale) as u32 + 2);
        assert!(
            top < aim && aim < bottom,
            "the circle is where the first cut would be"
        );
        assert!(moved
            .iter()
            .all(|s| s.end <= top || s.end >= bottom || s.end == h));
        // A slanted line through everything leaves no clean cut: the most a strip may take.
        let slant =
            format!("{crisp}<line stroke=\"#000\" x1=\"0\" y1=\"0\" x2=\"700\" y2=\"1000\"/>");
        let forced = strips(&tree(&slant), scale, w, h);
        check(&forced, h, most);
        assert!(forced[..forced.len() - 1]
            .iter()
            .all(|s| s.len() as u32 == most));
    }
}
