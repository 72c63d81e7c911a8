//! `[design]`: partitions of the audience, replicated or mirrored, checked rule by rule.

use std::collections::BTreeSet;

use super::Checker;
use crate::experiment::schema::{RawDesign, RawExperiment};
use crate::experiment::{Audience, Collect, Design, DesignKind};
use crate::vocab::Breakdown;

/// `[design]`, if given: its kind, partitions and their audiences, and, when mirrored, the
/// groups its regions encode. `None` without a table or a known kind.
pub(super) fn check_design(
    c: &mut Checker,
    raw: &RawExperiment,
    audience: &Audience,
    collect: &Collect,
) -> Option<Design> {
    let d = raw.design.as_ref()?;
    let kind = check_kind(c, d.kind.as_deref())?;
    check_partitions(c, d, kind);
    check_custom_audiences(c, raw, d);
    let (groups, region_sets) = if kind == DesignKind::Mirrored {
        check_mirrored(c, d, audience, collect)
    } else {
        // Groups and region sets mean something only to a mirrored design.
        (Vec::new(), Vec::new())
    };
    Some(Design {
        kind,
        partitions: d.partitions.clone(),
        custom_audiences: d.custom_audiences.clone(),
        groups,
        region_sets,
    })
}

/// `design.kind`: replicated or mirrored; `None` (and a problem) otherwise, since the rest
/// of the table depends on it.
fn check_kind(c: &mut Checker, kind: Option<&str>) -> Option<DesignKind> {
    match kind {
        Some("replicated") => Some(DesignKind::Replicated),
        Some("mirrored") => Some(DesignKind::Mirrored),
        other => {
            c.problem(
                "design.kind",
                match other {
                    Some(k) => format!("unknown design `{k}`"),
                    None => "is required".to_string(),
                },
                "use \"replicated\" (disjoint partitions, pooled) or \"mirrored\" (race encoded by region, Ali et al. 2019)",
            );
            None
        }
    }
}

/// `design.partitions`: valid keys, each once, two for a mirrored design and 2 to 20 for
/// replications.
fn check_partitions(c: &mut Checker, d: &RawDesign, kind: DesignKind) {
    let mut keys = BTreeSet::new();
    for (i, p) in d.partitions.iter().enumerate() {
        if !crate::experiment::keys::is_label(p) {
            c.problem(
                format!("design.partitions[{i}]"),
                format!("`{p}` is not a valid key"),
                "use letters, digits, - and _, e.g. \"A\"",
            );
        } else if !keys.insert(p.as_str()) {
            c.problem(
                format!("design.partitions[{i}]"),
                format!("`{p}` is listed twice"),
                "give each partition its own key, e.g. [\"A\", \"B\"]",
            );
        }
    }
    let wanted = if kind == DesignKind::Mirrored {
        2..=2
    } else {
        2..=20
    };
    if !wanted.contains(&d.partitions.len()) {
        c.problem(
            "design.partitions",
            format!("has {} partition(s)", d.partitions.len()),
            if kind == DesignKind::Mirrored {
                "a mirrored design has exactly two: the audience and its mirror, e.g. [\"A\", \"B\"]"
            } else {
                "replications need 2 to 20 disjoint partitions, e.g. [\"p1\", \"p2\", \"p3\"]"
            },
        );
    }
}

/// `design.custom_audiences`: one per partition or none, and not together with the
/// audience's own custom audience.
fn check_custom_audiences(c: &mut Checker, raw: &RawExperiment, d: &RawDesign) {
    if !d.custom_audiences.is_empty() && d.custom_audiences.len() != d.partitions.len() {
        c.problem(
            "design.custom_audiences",
            format!(
                "has {} entries for {} partitions",
                d.custom_audiences.len(),
                d.partitions.len()
            ),
            "give one platform audience per partition, in the same order, or none",
        );
    }
    if raw
        .audience
        .as_ref()
        .is_some_and(|a| a.custom_audience.is_some())
        && !d.custom_audiences.is_empty()
    {
        c.problem(
            "audience.custom_audience",
            "is set together with design.custom_audiences",
            "remove audience.custom_audience: with a design, each partition names its own audience",
        );
    }
}

/// A mirrored design's two groups (white and black unless given) and two region sets; the
/// region breakdown it reads race from. (That the simulator's ads engage only its groups
/// is adskew-sim's check.)
fn check_mirrored(
    c: &mut Checker,
    d: &RawDesign,
    audience: &Audience,
    collect: &Collect,
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut groups = d.groups.clone();
    if groups.is_empty() {
        groups = vec!["white".to_string(), "black".to_string()];
    }
    if groups.len() != 2 || groups[0] == groups[1] {
        c.problem(
            "design.groups",
            "needs two different groups",
            "e.g. groups = [\"white\", \"black\"]",
        );
    }
    check_region_sets(c, &d.region_sets, audience);
    if !collect.breakdowns.contains(&Breakdown::Region) {
        c.problem(
            "collect.breakdowns",
            "lacks \"region\", which a mirrored design reads race from",
            "add \"region\" to collect.breakdowns",
        );
    }
    (groups, d.region_sets.clone())
}

/// `design.region_sets`: two non-empty, disjoint sets of the regions delivery is reported
/// by (the audience's, else its countries).
fn check_region_sets(c: &mut Checker, region_sets: &[Vec<String>], audience: &Audience) {
    let regions = audience.region_values();
    let known: Vec<&str> = regions.iter().map(String::as_str).collect();
    if region_sets.len() != 2 || region_sets.iter().any(Vec::is_empty) {
        c.problem(
            "design.region_sets",
            "needs two non-empty sets of regions",
            "e.g. region_sets = [[\"Charlotte\"], [\"Raleigh-Durham\"]]",
        );
        return;
    }
    for (i, set) in region_sets.iter().enumerate() {
        for (j, r) in set.iter().enumerate() {
            if region_sets[1 - i].contains(r) {
                c.problem(
                    format!("design.region_sets[{i}][{j}]"),
                    format!("`{r}` is in both sets"),
                    "keep it in one of the two sets: they must be disjoint",
                );
            } else if !known.is_empty() && !known.contains(&r.as_str()) {
                c.problem(
                    format!("design.region_sets[{i}][{j}]"),
                    format!("`{r}` is not a region of the audience"),
                    &format!("use a region of the audience: {}", known.join(", ")),
                );
            }
        }
    }
}
