//! Test results in sentences a reader outside statistics understands.

use adskew_core::analysis::{Analysis, BreakdownResult, PairedResult};
use adskew_core::platform::Delivery;

/// Formats a p-value for prose: never "p = 0", which no finite sample supports.
pub fn format_p(p: f64, log10_p: Option<f64>) -> String {
    if p.is_nan() {
        return "p = n/a".to_string();
    }
    if p == 0.0 || p < 1e-300 {
        return match log10_p {
            Some(l) if l.is_finite() => format!("p < 1e{}", l.floor() as i64 + 1),
            _ => "p < 1e-300".to_string(),
        };
    }
    if p < 0.001 {
        format!("p = {p:.2e}")
    } else {
        format!("p = {p:.3}")
    }
}

/// A group as prose: "women", "people aged 25-34".
pub fn group_label(group: &str) -> String {
    match group {
        "female" => "women".to_string(),
        "male" => "men".to_string(),
        "unknown" => "people of unknown gender".to_string(),
        g if adskew_core::vocab::AgeBucket::parse(g).is_some() => format!("people aged {g}"),
        // The groups a mirrored design infers (race), as a reader writes them.
        g @ ("white" | "black" | "asian" | "hispanic" | "latino") => {
            let mut c = g.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
            format!("{first}{} people", c.as_str())
        }
        g => format!("people in {g}"),
    }
}

pub fn percent(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

/// One sentence for a chi-square result of a comparison.
pub fn describe_breakdown(analysis: &Analysis, b: &BreakdownResult) -> String {
    let alpha = analysis.settings.alpha;
    let unit = if b.metric == adskew_core::vocab::Metric::Reach {
        "people reached"
    } else {
        "impressions"
    };
    let Some(chi) = &b.chi2 else {
        return format!(
            "By {}: not tested ({}).",
            b.breakdown,
            b.not_tested.as_deref().unwrap_or("no data")
        );
    };
    let p_adj = b.adjusted_p_value.unwrap_or(chi.p_value);
    let verdict = if b.reject {
        format!(
            "the ads reached significantly different {} compositions",
            b.breakdown
        )
    } else {
        format!(
            "no significant difference in {} composition was found",
            b.breakdown
        )
    };
    format!(
        "By {}: {verdict} (Pearson chi-square = {:.2}, df = {}, {}; {}-adjusted {}; alpha = {alpha}; Cramér's V = {:.3}; counts are {unit}).",
        b.breakdown,
        chi.statistic,
        chi.dof,
        format_p(chi.p_value, Some(chi.log10_p_value)),
        analysis.settings.correction,
        format_p(p_adj, b.adjusted_log10_p_value).replace("p ", "p_adj "),
        chi.cramers_v,
    )
}

/// One sentence per ad for its composition against the expected one (goodness of fit),
/// when the breakdown has an expected composition.
pub fn describe_fits(b: &BreakdownResult) -> Vec<String> {
    let source = b.eligible_source.as_deref().unwrap_or("expected");
    b.goodness_of_fit
        .iter()
        .map(|fit| {
            let t = &fit.test;
            format!(
                "{} against the expected {} composition ({source}): chi-square goodness of fit = {:.2}, df = {}, {}; total variation distance = {:.3}.",
                fit.ad,
                b.breakdown,
                t.statistic,
                t.dof,
                format_p(t.p_value, Some(t.log10_p_value)),
                t.total_variation,
            )
        })
        .collect()
}

/// One sentence for a paired two-proportion test.
pub fn describe_paired(p: &PairedResult) -> String {
    let t = &p.test;
    let sided = match t.alternative {
        adskew_core::analysis::ztest::Alternative::TwoSided => "two-sided",
        _ => "one-sided, in the pre-registered direction",
    };
    let verdict = if p.reject {
        "a significant difference"
    } else {
        "no significant difference"
    };
    let direction = match p.direction_as_expected {
        Some(true) => " The difference points the expected way.",
        Some(false) => " The difference points against the expected direction.",
        None => "",
    };
    format!(
        "Share of {}: {} for `{}` vs {} for `{}` (difference {:+.1} points, CI {:+.1} to {:+.1}); pooled two-proportion z = {:.2}, {} ({sided}), adjusted {}: {verdict}.{direction}",
        group_label(&p.group),
        percent(t.share1),
        p.ad1,
        percent(t.share2),
        p.ad2,
        t.difference * 100.0,
        t.ci.low * 100.0,
        t.ci.high * 100.0,
        t.statistic,
        format_p(t.p_value, Some(t.log10_p_value)),
        format_p(p.adjusted_p_value, Some(p.adjusted_log10_p_value)).replace("p ", "p_adj "),
    )
}

/// Where the ads could be shown, as a sentence: the placements chosen, or the platform's
/// automatic placements, which a reader should know were not controlled.
pub fn describe_placements(audience: &adskew_core::experiment::Audience) -> String {
    if audience.placements.is_empty() {
        "Placements were the platform's automatic placements: it chose where each impression was shown, and placements differ in who uses them.".to_string()
    } else {
        let names: Vec<&str> = audience.placements.iter().map(|p| p.as_str()).collect();
        format!("Placements were chosen: {} only.", names.join(", "))
    }
}

/// A sentence for a run in which no ad was shown to anyone, so that an empty run is never
/// read as a finding about who was reached; `None` when something was delivered.
pub fn describe_no_delivery(analysis: &Analysis) -> Option<String> {
    let delivered = analysis
        .ads
        .iter()
        .any(|ad| ad.reach > 0 || ad.impressions > 0);
    if delivered || analysis.ads.is_empty() {
        return None;
    }
    Some(format!(
        "No delivery: none of the {} ads was shown to anyone (0 impressions, 0 people reached), \
         so there is nothing to compare or test. Check the run's state, its schedule and the \
         ads' review with `adskew status`.",
        analysis.ads.len()
    ))
}

/// A sentence on an ad the platform refused or limited, so that an ad with no delivery is
/// never read as an ad nobody was shown by chance.
pub fn describe_refused(ad: &adskew_core::analysis::AdTotals) -> String {
    format!(
        "Ad `{}` was {} by the platform ({}): {}. Its counts reflect that, not the audience's response.",
        ad.key,
        match ad.delivery {
            Some(Delivery::Rejected) => "rejected",
            _ => "limited",
        },
        ad.platform_status.as_deref().unwrap_or("status unknown"),
        ad.platform_problem.as_deref().unwrap_or("no reason given")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_say_who_chose_them() {
        let mut audience = adskew_core::experiment::Audience {
            countries: vec!["US".into()],
            regions: Vec::new(),
            age_min: 18,
            age_max: 65,
            custom_audience: None,
            placements: Vec::new(),
        };
        assert!(describe_placements(&audience).contains("automatic"));
        audience.placements = vec![adskew_core::vocab::Placement::InstagramFeed];
        assert_eq!(
            describe_placements(&audience),
            "Placements were chosen: instagram_feed only."
        );
    }

    #[test]
    fn groups_read_as_prose() {
        assert_eq!(group_label("female"), "women");
        assert_eq!(group_label("black"), "Black people");
        assert_eq!(group_label("25-34"), "people aged 25-34");
        assert_eq!(group_label("Charlotte"), "people in Charlotte");
    }

    #[test]
    fn never_prints_p_equals_zero() {
        assert_eq!(format_p(0.0, Some(-1087.68)), "p < 1e-1087");
        assert_eq!(format_p(0.0312, None), "p = 0.031");
        assert_eq!(format_p(2.5e-7, None), "p = 2.50e-7");
    }
}
