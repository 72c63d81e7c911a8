//! `[figures]`: how a report draws its figures, and the display labels of ads,
//! comparisons and groups (an ad's and a comparison's own `label`, the groups' in
//! `[figures.groups]`). Presentation only: nothing here changes what is run or tested,
//! and `adskew report --style/--axis/--width/--label` sets the same values afterwards.
//!
//! The defaults are what a journal takes as it comes: no titles inside the figures (the
//! title and caption go into `report.md`, the HTML and LaTeX), a value axis zoomed to the
//! data, and each kind's own width.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schema::RawFigures;
use super::validate::Checker;
use super::{decimal, Experiment};
use crate::vocab::{AgeBucket, Gender};

crate::vocabulary!(
    /// Who a figure is for: a paper (no title inside the figure; the caption carries it)
    /// or a screen (the title drawn above the plot, for slides and quick looks).
    FigureStyle { Paper => "paper", Screen => "screen" }
);

crate::vocabulary!(
    /// A figure's printed width: one column (3.5 in) or the full text width (7 in) of a
    /// two-column paper.
    FigureWidth { OneColumn => "one-column", TwoColumn => "two-column" }
);

/// The range of a share axis (dot, paired, over-time and budget charts; stacked
/// compositions always run from 0 to 100%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AxisRange {
    /// Zoomed to the estimates, their intervals and the reference line, in steps of five
    /// percentage points: 47% against 52% stays visible.
    #[default]
    Auto,
    /// 0 to 100%.
    Full,
    /// From `lo` to `hi`, shares (0 to 1).
    Given(f64, f64),
}

impl AxisRange {
    /// Reads `auto`, `full` or `LO,HI` in percent (as `--axis` takes it).
    pub fn parse(s: &str) -> std::result::Result<AxisRange, String> {
        match s.trim() {
            "auto" => Ok(AxisRange::Auto),
            "full" => Ok(AxisRange::Full),
            other => {
                let parts: Vec<Option<f64>> =
                    other.split(',').map(|x| x.trim().parse().ok()).collect();
                match parts[..] {
                    [Some(lo), Some(hi)] => AxisRange::given(lo, hi),
                    _ => Err(format!(
                        "`{s}` is not an axis range; give auto, full, or two percentages such as 30,70"
                    )),
                }
            }
        }
    }

    /// `[lo, hi]` in percent, checked: 0 ≤ lo < hi ≤ 100.
    pub fn given(lo: f64, hi: f64) -> std::result::Result<AxisRange, String> {
        if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi <= 100.0 {
            Ok(AxisRange::Given(lo / 100.0, hi / 100.0))
        } else {
            Err(format!(
                "[{}, {}] is not a range of percentages; give 0 <= lo < hi <= 100, e.g. [30, 70]",
                decimal(lo),
                decimal(hi)
            ))
        }
    }
}

/// The validated `[figures]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Figures {
    #[serde(default)]
    pub style: FigureStyle,
    #[serde(default)]
    pub axis: AxisRange,
    /// Every figure at this width; `None`: each kind at its own (dot, paired and budget
    /// one column; composition, over-time and cost two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<FigureWidth>,
    /// Display labels of groups by their key (`female = "Women"`, `black = "Black users"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
}

// The enum comes from `vocabulary!`, which derives no `Default`.
#[allow(clippy::derivable_impls)]
impl Default for FigureStyle {
    fn default() -> Self {
        FigureStyle::Paper
    }
}

impl Figures {
    /// Whether nothing was set (then the experiment's canonical JSON leaves it out, and
    /// the hash of an experiment without `[figures]` is what it was before the table).
    pub fn is_default(&self) -> bool {
        *self == Figures::default()
    }
}

/// The longest label: it must fit a one-column figure's axis.
pub const MAX_LABEL_CHARS: usize = 60;

/// A display label's problem, if any: empty, too long, or more than one line.
pub fn label_problem(label: &str) -> Option<String> {
    if label.trim().is_empty() {
        Some("is empty; give the text to show, e.g. \"Instacart shopper\", or leave it out".into())
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Some(format!(
            "is {} characters long; give at most {MAX_LABEL_CHARS}, so it fits a one-column figure",
            label.chars().count()
        ))
    } else if label.contains(['\n', '\r']) {
        Some("has a line break; give one line".into())
    } else {
        None
    }
}

/// Checks `[figures]`; every problem goes to `c` with its path and fix.
pub(super) fn check_figures(c: &mut Checker, raw: Option<&RawFigures>) -> Figures {
    let Some(raw) = raw else {
        return Figures::default();
    };
    let mut out = Figures::default();
    if let Some(s) = &raw.style {
        match FigureStyle::parse(s) {
            Some(style) => out.style = style,
            None => c.problem(
                "figures.style",
                format!("`{s}` is not a figure style"),
                &format!("one of {}", FigureStyle::choices()),
            ),
        }
    }
    if let Some(w) = &raw.width {
        match FigureWidth::parse(w) {
            Some(width) => out.width = Some(width),
            None => c.problem(
                "figures.width",
                format!("`{w}` is not a figure width"),
                &format!("one of {}", FigureWidth::choices()),
            ),
        }
    }
    if let Some(axis) = &raw.axis {
        match read_axis(axis) {
            Ok(a) => out.axis = a,
            Err(message) => c.problem(
                "figures.axis",
                message,
                "axis = \"auto\" (the default), \"full\" (0 to 100%) or [lo, hi] in percent, e.g. [30, 70]",
            ),
        }
    }
    for (group, label) in raw.groups.iter().flatten() {
        if let Some(problem) = label_problem(label) {
            c.problem(
                format!("figures.groups.{group}"),
                format!("the label {problem}"),
                "one line of at most 60 characters, e.g. female = \"Women\"",
            );
        }
        out.groups.insert(group.clone(), label.trim().to_string());
    }
    out
}

fn read_axis(v: &serde_json::Value) -> std::result::Result<AxisRange, String> {
    match v {
        serde_json::Value::String(s) if s == "auto" || s == "full" => {
            AxisRange::parse(s).map_err(|e| e.to_string())
        }
        serde_json::Value::Array(xs) => match xs.iter().map(|x| x.as_f64()).collect::<Vec<_>>()[..]
        {
            [Some(lo), Some(hi)] => AxisRange::given(lo, hi),
            _ => Err("must be two numbers, [lo, hi] in percent".into()),
        },
        other => Err(format!("{other} is not an axis range")),
    }
}

/// Group keys `[figures.groups]` may label that are no group of the experiment: not a
/// gender, an age bucket, a targeted region or country, or a group of the design.
pub fn unknown_groups(e: &Experiment) -> Vec<String> {
    let design_groups: Vec<&str> = e
        .design
        .iter()
        .flat_map(|d| d.groups.iter().map(String::as_str))
        .collect();
    e.figures
        .groups
        .keys()
        .filter(|g| {
            Gender::parse(g).is_none()
                && AgeBucket::parse(g).is_none()
                && !e.audience.region_values().iter().any(|r| r == *g)
                && !design_groups.contains(&g.as_str())
                && !["white", "black"].contains(&g.as_str())
        })
        .cloned()
        .collect()
}

/// Sets the display label of the ad, comparison or group `key` (as `report --label
/// KEY=TEXT` does), or says why not: no such key, a key both an ad and a comparison, or a
/// bad label.
pub fn set_label(e: &mut Experiment, key: &str, label: &str) -> std::result::Result<(), String> {
    if let Some(problem) = label_problem(label) {
        return Err(format!("the label of `{key}` {problem}"));
    }
    let label = label.trim().to_string();
    let ad = e.ads.iter().position(|a| a.key == key);
    let cmp = e.comparisons.iter().position(|c| c.key == key);
    match (ad, cmp) {
        (Some(_), Some(_)) => Err(format!(
            "`{key}` is both an ad and a comparison; set one of them in the experiment file (label = \"...\")"
        )),
        (Some(i), None) => {
            e.ads[i].label = Some(label);
            Ok(())
        }
        (None, Some(i)) => {
            e.comparisons[i].label = Some(label);
            Ok(())
        }
        (None, None) => {
            e.figures.groups.insert(key.to_string(), label);
            if unknown_groups(e).iter().any(|g| g == key) {
                e.figures.groups.remove(key);
                let ads: Vec<&str> = e.ads.iter().map(|a| a.key.as_str()).collect();
                let cmps: Vec<&str> = e.comparisons.iter().map(|c| c.key.as_str()).collect();
                return Err(format!(
                    "`{key}` is no ad, comparison or group of {}; give one of the ads ({}), the comparisons ({}) or a group (female, male, an age bucket such as 25-34, a region)",
                    e.name,
                    ads.join(", "),
                    cmps.join(", ")
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ranges_read_as_flags_write_them() {
        assert_eq!(AxisRange::parse("auto"), Ok(AxisRange::Auto));
        assert_eq!(AxisRange::parse("full"), Ok(AxisRange::Full));
        assert_eq!(AxisRange::parse("30,70"), Ok(AxisRange::Given(0.3, 0.7)));
        assert!(AxisRange::parse("70,30")
            .unwrap_err()
            .contains("0 <= lo < hi <= 100"));
        assert!(AxisRange::parse("zoom").unwrap_err().contains("auto, full"));
    }

    #[test]
    fn labels_are_one_short_line() {
        assert_eq!(label_problem("Instacart shopper"), None);
        assert!(label_problem("  ").is_some());
        assert!(label_problem(&"x".repeat(61)).is_some());
        assert!(label_problem("a\nb").is_some());
    }
}
