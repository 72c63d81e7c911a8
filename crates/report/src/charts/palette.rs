//! Which colour means what, report-wide: one colour per ad in every figure of a report,
//! and colours for groups that never mean an ad.
//!
//! Ads take Okabe and Ito's colours other than vermillion and blue, in the experiment's
//! order (a seventh ad takes the first colour again); women are vermillion, men blue,
//! unknown gender grey; every other group (age buckets, race, regions) takes a shade of
//! viridis, dark to light in the groups' order, so no group shares a colour with an ad.
//! Both palettes stay distinguishable under the common colour-vision deficiencies.

use plotters::style::RGBColor;

use super::style::{
    BLACK, BLUE, BLUISH_GREEN, GREY, ORANGE, REDDISH_PURPLE, SKY_BLUE, VERMILLION, YELLOW,
};
use adskew_core::experiment::{Design, Experiment};

/// The colours ads take, in order.
pub const AD_COLOURS: [RGBColor; 6] = [
    BLUISH_GREEN,
    ORANGE,
    SKY_BLUE,
    REDDISH_PURPLE,
    BLACK,
    YELLOW,
];

/// Fitted lines and the sequential chart's difference of two ads: a dark grey no ad or
/// group takes (solid, where reference lines are
/// dashed).
pub const FIT: RGBColor = RGBColor(64, 64, 64);

/// Viridis at eight evenly spaced points (matplotlib's table), dark to light.
const VIRIDIS: [RGBColor; 8] = [
    RGBColor(68, 1, 84),
    RGBColor(70, 50, 127),
    RGBColor(54, 92, 141),
    RGBColor(39, 127, 142),
    RGBColor(31, 161, 135),
    RGBColor(74, 194, 109),
    RGBColor(159, 218, 58),
    RGBColor(253, 231, 37),
];

/// The colour of ad `key` (or `key@partition`) in every figure of a report on `e`.
pub fn ad_colour(e: &Experiment, key: &str) -> RGBColor {
    let (ad, _) = Design::split_key(key);
    let i = e.ads.iter().position(|a| a.key == ad).unwrap_or(0);
    AD_COLOURS[i % AD_COLOURS.len()]
}

/// The colour of group `group`, the `index`th of `count` groups of its breakdown.
pub fn group_colour(group: &str, index: usize, count: usize) -> RGBColor {
    match group {
        "female" => VERMILLION,
        "male" => BLUE,
        "unknown" => GREY,
        _ if count <= 1 => VIRIDIS[0],
        _ => {
            // Spread over the table; the lightest yellow is kept for eight or more groups.
            let last = if count >= VIRIDIS.len() { 7 } else { 6 };
            VIRIDIS[(index.min(count - 1) * last) / (count - 1)]
        }
    }
}

/// `c` at `alpha` over white, opaque: a band without transparency, which would make the
/// PDF's bytes differ from run to run (svg2pdf keeps its graphics states in a hash map).
pub fn tint(c: RGBColor, alpha: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 * alpha + 255.0 * (1.0 - alpha)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_never_take_an_ad_colour() {
        for count in 1..10 {
            for i in 0..count {
                let c = group_colour("25-34", i, count);
                assert!(!AD_COLOURS.contains(&c), "{i} of {count}");
            }
        }
        for g in ["female", "male", "unknown"] {
            assert!(!AD_COLOURS.contains(&group_colour(g, 0, 3)));
        }
    }

    #[test]
    fn groups_of_a_breakdown_get_distinct_colours() {
        for count in 2..=8 {
            let mut seen: Vec<RGBColor> = (0..count).map(|i| group_colour("x", i, count)).collect();
            seen.dedup();
            assert_eq!(seen.len(), count);
        }
    }
}
