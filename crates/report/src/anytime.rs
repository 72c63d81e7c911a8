//! The report's words on the anytime-valid looks (issue 18): what the last collection's
//! confidence sequences and always-valid p-values say, and that they stay valid under
//! continuous monitoring. Only words: every number is the stored look's.

use std::fmt::Write as _;

use adskew_core::analysis::sequential::{counts_phrase, Look};
use adskew_core::analysis::Analysis;

use crate::labels::Labels;
use crate::words::{format_p, level_percent};

/// One look as a sentence, ads, comparisons and groups by their display labels.
pub fn describe_look(a: &Analysis, labels: &Labels, alpha: f64, l: &Look) -> String {
    let p = l.p_value;
    // Where p underflows: this look's e-value bounds the stored running maximum from
    // below, so its log10 p is a bound from above, never an overstatement.
    let log10_p = -l.log_e.max(0.0) / std::f64::consts::LN_10;
    let mut line = format!(
        "{} by {}: always-valid {}",
        labels.comparison_in_prose(&l.comparison),
        l.breakdown,
        format_p(p, Some(log10_p), a.settings.p_floor)
    );
    if let Some(pair) = &l.pair {
        let (lo, hi) = pair.difference.clipped();
        let points = |x: f64| crate::charts::style::signed(x * 100.0, 1);
        let _ = write!(
            line,
            "; the share of {} for {} minus {}: {} percentage points, {}% confidence \
             sequence {} to {}{}",
            labels.group(&pair.group),
            labels.ad_in_prose(&pair.ad1),
            labels.ad_in_prose(&pair.ad2),
            points(pair.difference.estimate),
            level_percent(1.0 - alpha),
            points(lo),
            points(hi),
            if pair.difference.excludes(0.0) {
                ", excluding zero"
            } else {
                ""
            }
        );
    }
    line.push('.');
    line
}

/// The Markdown section; nothing for a run without looks.
pub fn markdown(s: &mut String, a: &Analysis, labels: &Labels) {
    let Some(anytime) = &a.anytime_valid else {
        return;
    };
    let _ = writeln!(s, "### Anytime-valid results\n");
    let _ = writeln!(
        s,
        "Valid under continuous monitoring: these keep their level however often the run \
         was looked at and whenever it stopped, unlike the tests above if they were checked \
         at every collection (a confidence sequence after Waudby-Smith et al. 2024, and a \
         universal-inference e-value; see adskew's docs/sequential.md). {} The last look, {}:\n",
        match anytime.revision_bound {
            None =>
                "Each look is computed on the counts the platform no longer revises (from \
                     launch to a revision window, `recollect_after_days`, before its \
                     collection), so a look trails its collection by that window.",
            Some(_) =>
                "Under the experiment's declared bound on revisions \
                        (`[stopping] revision_bound`), each difference's sequence also reads \
                        the counts the platform may still revise, allowing for the most the \
                        bound lets them change; it is valid as long as the bound holds.",
        },
        counts_phrase(
            anytime.revision_bound,
            &anytime.as_of.format("%Y-%m-%d %H:%M UTC").to_string()
        )
    );
    for l in &anytime.looks {
        let _ = writeln!(s, "- {}", describe_look(a, labels, anytime.alpha, l));
    }
    s.push('\n');
}
