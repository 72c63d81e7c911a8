//! Test results in sentences a reader outside statistics understands.

use adskew_core::analysis::ci::Interval;
use adskew_core::analysis::{Analysis, BreakdownResult, PairedResult};
use adskew_core::platform::Delivery;
use adskew_core::vocab::{CiMethod, Correction};

/// A p-value as a report prints it: one decision (how many digits the arithmetic
/// supports, and the floor below which a journal prints only a bound), rendered as text
/// (prose, captions, Markdown and HTML tables) or as LaTeX. The exact value is never
/// lost: `results.json` and the CSV tables keep p and its log10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrintedP {
    NotAvailable,
    /// At least 0.001: three decimals.
    Decimal(f64),
    /// Below 0.001, at or above the floor: `mantissa` × 10^`exponent`, two decimals.
    Scientific {
        mantissa: f64,
        exponent: i32,
    },
    /// Below the floor 10^k: "< 10^k".
    Below(i32),
}

impl PrintedP {
    /// `p` (with its log10, which stays finite where `p` underflows to 0) as printed with
    /// the floor `floor` (a power of ten, see [`adskew_core::experiment::p_floor_exponent`]).
    pub fn of(p: f64, log10_p: Option<f64>, floor: f64) -> PrintedP {
        if p.is_nan() {
            return PrintedP::NotAvailable;
        }
        let floor_exp = adskew_core::experiment::p_floor_exponent(floor).unwrap_or(-16);
        let log = match log10_p {
            Some(l) if l.is_finite() && !(p.is_normal() && p > 0.0) => l,
            _ => p.log10(),
        };
        if log < f64::from(floor_exp) {
            return PrintedP::Below(floor_exp);
        }
        if p >= 0.001 {
            return PrintedP::Decimal(p);
        }
        let mut exponent = log.floor() as i32;
        // From the log, which is finite even where `p` is not representable.
        let mut mantissa = 10f64.powf(log - f64::from(exponent));
        if format!("{mantissa:.2}") == "10.00" {
            (mantissa, exponent) = (1.0, exponent + 1);
        }
        PrintedP::Scientific { mantissa, exponent }
    }

    /// As text: "0.031", "2.50 × 10⁻⁷", "< 10⁻¹⁶", "n/a".
    pub fn text(&self) -> String {
        match *self {
            PrintedP::NotAvailable => "n/a".into(),
            PrintedP::Decimal(p) => format!("{p:.3}"),
            PrintedP::Scientific { mantissa, exponent } => {
                format!("{mantissa:.2} × 10{}", superscript(exponent))
            }
            // 10⁻³ and 10⁻⁴ as journals print them: "p < 0.001".
            PrintedP::Below(k) if k >= -4 => format!("< 0.{}1", "0".repeat((-k - 1) as usize)),
            PrintedP::Below(k) => format!("< 10{}", superscript(k)),
        }
    }

    /// As LaTeX: "0.031", "$2.50\times10^{-7}$", "$<10^{-16}$".
    pub fn latex(&self) -> String {
        match *self {
            PrintedP::Scientific { mantissa, exponent } => {
                format!("${mantissa:.2}\\times10^{{{exponent}}}$")
            }
            PrintedP::Below(k) if k >= -4 => format!("${}$", self.text()),
            PrintedP::Below(k) => format!("$<10^{{{k}}}$"),
            _ => self.text(),
        }
    }

    /// In a sentence, after `name` ("p", "adjusted p"): "p = 0.031", "p < 10⁻¹⁶".
    pub fn prose(&self, name: &str) -> String {
        match self {
            PrintedP::Below(_) => format!("{name} {}", self.text()),
            _ => format!("{name} = {}", self.text()),
        }
    }
}

/// Formats a p-value for prose with the analysis' floor: never "p = 0", which no finite
/// sample supports, and no more digits than the arithmetic holds ("p < 10⁻¹⁶").
pub fn format_p(p: f64, log10_p: Option<f64>, floor: f64) -> String {
    PrintedP::of(p, log10_p, floor).prose("p")
}

/// An exponent in superscript digits: -16 → "⁻¹⁶".
pub fn superscript(exponent: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    exponent
        .to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => DIGITS[d as usize],
            None => '⁻',
        })
        .collect()
}

/// A correction's name as its authors are cited: "Holm", "Benjamini–Hochberg"; `None`
/// when there is none.
pub fn correction_name(c: Correction) -> Option<&'static str> {
    match c {
        Correction::None => None,
        Correction::Bonferroni => Some("Bonferroni"),
        Correction::Holm => Some("Holm"),
        Correction::BenjaminiHochberg => Some("Benjamini–Hochberg"),
    }
}

/// A correction as the method's name in a sentence: "Holm's method"; `None` for none.
fn correction_method(c: Correction) -> Option<&'static str> {
    match c {
        Correction::None => None,
        Correction::Bonferroni => Some("the Bonferroni method"),
        Correction::Holm => Some("Holm's method"),
        Correction::BenjaminiHochberg => Some("the Benjamini–Hochberg method"),
    }
}

/// How the p-values of an analysis were corrected, as a clause: "p-values adjusted with
/// Holm's method across 4 tests", "no correction for multiple tests".
pub fn correction_phrase(a: &Analysis) -> String {
    match correction_method(a.settings.correction) {
        None => "no correction for multiple tests".into(),
        Some(method) => format!(
            "p-values adjusted with {method} across {}",
            plural(a.tests, "test", "tests")
        ),
    }
}

/// An interval method's published name: "Wilson", "Clopper–Pearson".
pub fn ci_method_name(m: CiMethod) -> &'static str {
    match m {
        CiMethod::Wilson => "Wilson",
        CiMethod::AgrestiCoull => "Agresti–Coull",
        CiMethod::ClopperPearson => "Clopper–Pearson",
        CiMethod::Wald => "Wald",
    }
}

/// The intervals of an analysis, as a caption names them: "95% Wilson confidence
/// intervals".
pub fn ci_intervals(s: &adskew_core::experiment::AnalysisSettings) -> String {
    format!(
        "{}% {} confidence intervals",
        level_percent(s.ci_level),
        ci_method_name(s.ci)
    )
}

/// An interval's level and method as a reader cites it: "95% Wilson" (from the interval
/// itself, so the words cannot disagree with how it was computed).
pub fn ci_label(ci: &Interval) -> String {
    let method: &str = match CiMethod::parse(&ci.method) {
        Some(m) => ci_method_name(m),
        None => &ci.method,
    };
    format!("{}% {method}", level_percent(ci.level))
}

/// A confidence level as a percentage without float noise: 0.95 → "95", 0.995 → "99.5".
pub fn level_percent(level: f64) -> String {
    let s = format!("{:.2}", level * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `n` and the noun in its number: "1 test", "4 tests".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The name of a chi-square test of independence as published: "Pearson's χ²", or
/// "Yates-corrected χ²" when the continuity correction was applied to it.
pub fn chi_square_name(yates: bool) -> &'static str {
    if yates {
        "Yates-corrected χ²"
    } else {
        "Pearson's χ²"
    }
}

/// The settings of the tests in one line, for the report's summary: "4 tests at α = 0.05,
/// p-values adjusted with Holm's method; 95% Wilson confidence intervals".
pub fn settings_summary(a: &Analysis) -> String {
    let s = &a.settings;
    format!(
        "{} at α = {}, {}; {}{}",
        plural(a.tests, "test", "tests"),
        s.alpha,
        correction_method(s.correction).map_or_else(
            || "no correction for multiple tests".to_string(),
            |m| format!("p-values adjusted with {m}")
        ),
        ci_intervals(s),
        if s.yates {
            "; Yates' continuity correction on 2 × 2 tables"
        } else {
            ""
        }
    )
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

/// The p-value of a test and, when the experiment corrects, its adjusted p-value:
/// "p < 10⁻¹⁶, Holm-adjusted p < 10⁻¹⁶" or "p = 0.031, not adjusted for multiple tests".
fn p_and_adjusted(a: &Analysis, p: (f64, Option<f64>), adjusted: (f64, Option<f64>)) -> String {
    let floor = a.settings.p_floor;
    let raw = format_p(p.0, p.1, floor);
    match correction_name(a.settings.correction) {
        None => format!("{raw}, not adjusted for multiple tests"),
        Some(name) => format!(
            "{raw}, {}",
            PrintedP::of(adjusted.0, adjusted.1, floor).prose(&format!("{name}-adjusted p"))
        ),
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
        "By {}: {verdict} ({} = {:.2}, df = {}, {}; α = {alpha}; Cramér's V = {:.3}; counts are {unit}).",
        b.breakdown,
        chi_square_name(chi.yates),
        chi.statistic,
        chi.dof,
        p_and_adjusted(
            analysis,
            (chi.p_value, Some(chi.log10_p_value)),
            (p_adj, b.adjusted_log10_p_value)
        ),
        chi.cramers_v,
    )
}

/// One sentence per ad for its composition against the expected one (goodness of fit),
/// when the breakdown has an expected composition.
pub fn describe_fits(a: &Analysis, b: &BreakdownResult) -> Vec<String> {
    let against = match b.eligible_source.as_deref() {
        Some("simulator") => format!(
            "the eligible audience's {} composition (simulator)",
            b.breakdown
        ),
        Some(source) => format!("the expected {} composition ({source})", b.breakdown),
        None => format!("the expected {} composition", b.breakdown),
    };
    b.goodness_of_fit
        .iter()
        .map(|fit| {
            let t = &fit.test;
            format!(
                "`{}` against {against}: Pearson's χ² goodness of fit = {:.2}, df = {}, {}; total variation distance = {:.3}.",
                fit.ad,
                t.statistic,
                t.dof,
                format_p(t.p_value, Some(t.log10_p_value), a.settings.p_floor),
                t.total_variation,
            )
        })
        .collect()
}

/// One sentence for a paired two-proportion test, the ads named by their keys.
pub fn describe_paired(a: &Analysis, p: &PairedResult) -> String {
    describe_paired_as(a, p, &|key| format!("`{key}`"))
}

/// One sentence for a paired two-proportion test, the ads named by `name` (a report's
/// display labels).
pub fn describe_paired_as(a: &Analysis, p: &PairedResult, name: &dyn Fn(&str) -> String) -> String {
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
        "Share of {}: {} for {} vs {} for {} (difference {:+.1} percentage points, {} CI {:+.1} to {:+.1}); pooled two-proportion z-test ({sided}): z = {:.2}, {}: {verdict}.{direction}",
        group_label(&p.group),
        percent(t.share1),
        name(&p.ad1),
        percent(t.share2),
        name(&p.ad2),
        t.difference * 100.0,
        ci_label(&t.ci),
        t.ci.low * 100.0,
        t.ci.high * 100.0,
        t.statistic,
        p_and_adjusted(
            a,
            (t.p_value, Some(t.log10_p_value)),
            (p.adjusted_p_value, Some(p.adjusted_log10_p_value))
        ),
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
        // Below the floor a bound, never the thousand-digit exponent of an underflow.
        assert_eq!(format_p(0.0, Some(-1087.68), 1e-16), "p < 10⁻¹⁶");
        assert_eq!(format_p(0.0312, None, 1e-16), "p = 0.031");
        assert_eq!(format_p(2.5e-7, None, 1e-16), "p = 2.50 × 10⁻⁷");
    }

    #[test]
    fn the_floor_is_where_printing_stops() {
        // Just above, at and below a floor of 10⁻¹⁶; a floor of 10⁻³ prints "p < 0.001"'s
        // power-of-ten form; the log10 decides where the double underflowed.
        assert_eq!(format_p(3.2e-16, None, 1e-16), "p = 3.20 × 10⁻¹⁶");
        assert_eq!(format_p(1e-16, None, 1e-16), "p = 1.00 × 10⁻¹⁶");
        assert_eq!(format_p(9.9e-17, None, 1e-16), "p < 10⁻¹⁶");
        assert_eq!(format_p(0.0004, None, 1e-3), "p < 0.001");
        assert_eq!(format_p(0.0, Some(-927.6), 1e-300), "p < 10⁻³⁰⁰");
        assert_eq!(format_p(0.0, Some(-25.3), 1e-30), "p = 5.01 × 10⁻²⁶");
        assert_eq!(format_p(9.996e-5, None, 1e-16), "p = 1.00 × 10⁻⁴");
        assert_eq!(format_p(f64::NAN, None, 1e-16), "p = n/a");
        assert_eq!(PrintedP::of(0.0, Some(-99.0), 1e-16).latex(), "$<10^{-16}$");
        assert_eq!(
            PrintedP::of(2.5e-7, None, 1e-16).latex(),
            "$2.50\\times10^{-7}$"
        );
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(plural(1, "test", "tests"), "1 test");
        assert_eq!(plural(4, "test", "tests"), "4 tests");
        assert_eq!(level_percent(0.95), "95");
        assert_eq!(level_percent(0.9), "90");
        assert_eq!(level_percent(0.995), "99.5");
    }
}
