//! The charts' one font, DejaVu Sans (bundled by the `dejavu` crate): what layout measures
//! and what every output renders with.
//!
//! Each SVG carries the font itself, cut down to the characters it uses ([`Subset`]), as
//! an `@font-face` with a family name of its own, so a browser, Inkscape's import or a
//! LaTeX toolchain that honours web fonts sets it as it was measured; the PNG and the
//! PDF are rendered from the same SVG with that same subset as their only font. The
//! subset has no kerning or ligature tables, so every renderer advances each glyph by
//! its `hmtx` width, which is exactly what [`width_em`] adds up for layout.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use base64::Engine;
use ttf_parser::{Face, GlyphId, Tag};

/// The family the font's own name table gives: what usvg matches in the PNG and PDF.
pub const FAMILY: &str = "DejaVu Sans";

/// The full font, parsed once per process.
fn face() -> &'static Face<'static> {
    static FACE: OnceLock<Face<'static>> = OnceLock::new();
    FACE.get_or_init(|| Face::parse(dejavu::sans::regular(), 0).expect("DejaVu Sans parses"))
}

/// A length in the font's units as a fraction of the em.
fn em(units: f64) -> f64 {
    units / face().units_per_em() as f64
}

/// The glyph a character is drawn with (`.notdef` for one the font lacks).
fn glyph(c: char) -> GlyphId {
    face().glyph_index(c).unwrap_or(GlyphId(0))
}

/// The advance width of `text` in ems: the sum of its glyphs' advances, as the renderers
/// place them (no kerning, no ligatures: the embedded subset has neither).
pub fn width_em(text: &str) -> f64 {
    let units: u32 = text
        .chars()
        .map(|c| face().glyph_hor_advance(glyph(c)).unwrap_or(0) as u32)
        .sum();
    em(units as f64)
}

/// Height of a line of text in ems: ascender to descender.
pub fn line_em() -> f64 {
    em(face().ascender() as f64 - face().descender() as f64)
}

/// Height of capital letters above the baseline, in ems.
pub fn cap_height_em() -> f64 {
    em(face().capital_height().unwrap_or(1493) as f64)
}

/// Height of lower-case letters above the baseline, in ems.
pub fn x_height_em() -> f64 {
    em(face().x_height().unwrap_or(1120) as f64)
}

/// Depth of descenders below the baseline, in ems (positive).
pub fn descent_em() -> f64 {
    -em(face().descender() as f64)
}

/// DejaVu Sans cut down to some characters: a TrueType font browsers and usvg load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    /// The `@font-face` family: unique per subset (from its bytes), so SVGs inlined into
    /// one HTML page do not take each other's glyphs.
    pub family: String,
    /// The font file.
    pub ttf: Vec<u8>,
}

impl Subset {
    /// The subset with the glyphs of `chars` (and those their composite glyphs use).
    /// The same characters give the same bytes.
    pub fn of(chars: &BTreeSet<char>) -> Subset {
        let full = dejavu::sans::regular();
        let mut remapper = subsetter::GlyphRemapper::new();
        let mut cmap = Vec::new();
        for &c in chars {
            let Some(g) = face().glyph_index(c) else {
                continue;
            };
            if let Ok(code) = u16::try_from(c as u32) {
                cmap.push((code, remapper.remap(g.0)));
            }
        }
        let sub = subsetter::subset(full, 0, &remapper).expect("DejaVu Sans subsets");
        let mut tables = tables_of(&sub);
        tables.push((*b"cmap", cmap_table(&cmap)));
        let os2 = face()
            .raw_face()
            .table(Tag::from_bytes(b"OS/2"))
            .expect("DejaVu Sans has an OS/2 table");
        tables.push((*b"OS/2", os2.to_vec()));
        let ttf = assemble(tables);
        let hash = adskew_core::digest::sha256_hex(&ttf);
        Subset {
            family: format!("adskew-dejavu-{}", &hash[..12]),
            ttf,
        }
    }

    /// The `font-family` value of the chart's text: this subset, then the font by its
    /// own name (what usvg finds), then any sans-serif.
    pub fn font_family(&self) -> String {
        format!("{}, {FAMILY}, sans-serif", self.family)
    }

    /// A `<style>` element declaring the subset as a web font.
    pub fn style_element(&self) -> String {
        let data = base64::engine::general_purpose::STANDARD.encode(&self.ttf);
        format!(
            "<defs><style>@font-face {{ font-family: \"{}\"; src: url(data:font/ttf;base64,{data}) format(\"truetype\"); }}</style></defs>\n",
            self.family
        )
    }
}

/// The tables of a TrueType file, in its directory's order.
fn tables_of(ttf: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let count = u16::from_be_bytes([ttf[4], ttf[5]]) as usize;
    (0..count)
        .map(|i| {
            let r = &ttf[12 + 16 * i..28 + 16 * i];
            let tag = [r[0], r[1], r[2], r[3]];
            let offset = u32::from_be_bytes([r[8], r[9], r[10], r[11]]) as usize;
            let len = u32::from_be_bytes([r[12], r[13], r[14], r[15]]) as usize;
            (tag, ttf[offset..offset + len].to_vec())
        })
        .collect()
}

/// A `cmap` table with one format 4 subtable (Unicode BMP), for the Unicode and the
/// Windows platforms, mapping each code to its glyph; `map` is sorted by code.
fn cmap_table(map: &[(u16, u16)]) -> Vec<u8> {
    // One segment per character, then the final 0xFFFF segment format 4 requires.
    let mut segments: Vec<(u16, u16)> = map.iter().map(|&(c, g)| (c, g.wrapping_sub(c))).collect();
    segments.push((0xFFFF, 1));
    let n = segments.len() as u16;
    let selector = 15 - n.leading_zeros() as u16; // floor(log2 n)
    let search_range = 2 * (1u16 << selector);
    let mut sub: Vec<u16> = vec![4, 16 + 8 * n, 0, 2 * n, search_range, selector];
    sub.push(2 * n - search_range);
    sub.extend(segments.iter().map(|s| s.0)); // end codes
    sub.push(0); // reserved pad
    sub.extend(segments.iter().map(|s| s.0)); // start codes
    sub.extend(segments.iter().map(|s| s.1)); // id deltas
    sub.extend(segments.iter().map(|_| 0)); // id range offsets
                                            // Version 0, two encoding records (0/3 and 3/1) sharing the subtable at offset 20.
    let mut out: Vec<u16> = vec![0, 2, 0, 3, 0, 20, 3, 1, 0, 20];
    out.extend(sub);
    out.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A TrueType file of `tables`: the directory sorted by tag, each table's checksum,
/// 4-byte alignment and `head`'s checksum adjustment, as the OpenType specification says.
fn assemble(mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| *tag);
    let n = tables.len() as u16;
    let selector = 15 - n.leading_zeros() as u16;
    let search_range = 16 * (1u16 << selector);
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, search_range, selector, 16 * n - search_range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &mut tables {
        if tag == b"head" {
            data[8..12].fill(0);
            head_at = Some(offset + 8);
        }
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at..at + 4].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

/// The OpenType checksum: the sum of big-endian u32 words, the last one zero-padded.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, word| {
        let mut w = [0u8; 4];
        w[..word.len()].copy_from_slice(word);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subset(text: &str) -> Subset {
        Subset::of(&text.chars().collect())
    }

    #[test]
    fn a_subset_maps_its_characters_to_the_same_outlines_and_advances() {
        let text = "Share of women (%) 52.1% × 10⁻⁹ − é";
        let sub = subset(text);
        let font = Face::parse(&sub.ttf, 0).expect("the subset parses");
        assert_eq!(font.units_per_em(), face().units_per_em());
        for c in text.chars() {
            let g = font
                .glyph_index(c)
                .unwrap_or_else(|| panic!("{c:?} mapped"));
            assert_eq!(
                font.glyph_hor_advance(g),
                face().glyph_hor_advance(glyph(c)),
                "{c:?}"
            );
            assert_eq!(
                font.glyph_bounding_box(g),
                face().glyph_bounding_box(glyph(c)),
                "{c:?}"
            );
        }
        assert_eq!(font.glyph_index('Z'), None, "only what was asked for");
        // Small enough to carry in every SVG.
        assert!(sub.ttf.len() < 40_000, "{} bytes", sub.ttf.len());
    }

    #[test]
    fn subsets_are_deterministic_and_named_by_their_content() {
        assert_eq!(subset("women"), subset("nemow"));
        assert_ne!(subset("women").family, subset("men").family);
        assert!(subset("a")
            .font_family()
            .ends_with("DejaVu Sans, sans-serif"));
    }

    #[test]
    fn checksums_add_up() {
        let sub = subset("abc");
        // The whole file sums to the magic number once head's adjustment is in.
        assert_eq!(checksum(&sub.ttf), 0xB1B0_AFBA);
    }

    #[test]
    fn widths_are_the_fonts_advances() {
        // DejaVu Sans: 'i' advances 569 units, 'W' 2025, of 2048 to the em.
        assert!((width_em("i") - 569.0 / 2048.0).abs() < 1e-12);
        assert!((width_em("Wi") - (2025.0 + 569.0) / 2048.0).abs() < 1e-12);
        assert_eq!(width_em(""), 0.0);
    }
}
