//! `adskew plan`: power before money moves, by replicated simulation of an experiment or
//! analytically for two shares.

use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::load;
use crate::analysis::power::{cohens_h, power, sample_size};
use crate::analysis::ztest::Alternative;
use crate::cli::{AlternativeArg, PlanArgs};
use crate::error::{Error, Result};

pub fn execute(args: PlanArgs) -> Result<()> {
    let json = args.output.json;
    match (&args.file, args.p1, args.p2) {
        (Some(file), _, _) => plan_simulated(file, args.replicates, args.seed, json, args.quiet),
        (None, Some(p1), Some(p2)) => plan_analytic(
            &Analytic {
                p1,
                p2,
                alpha: args.alpha,
                target: args.power,
                alternative: args.alternative,
                ratio: args.ratio,
                n: args.n,
            },
            json,
        ),
        _ => Err(Error::BadInput(
            "give an experiment FILE to simulate (`adskew plan campaigns/pilot_two_ads.toml`), \
             or --p1 and --p2 for the analytic sample size"
                .into(),
        )),
    }
}

fn plan_simulated(
    file: &Path,
    replicates: usize,
    seed: Option<u64>,
    json: bool,
    quiet: bool,
) -> Result<()> {
    let exp = load(file)?;
    let seed = seed.unwrap_or(crate::platform::sim::truth_of(&exp)?.seed);
    let progress = if quiet || json {
        ProgressBar::hidden()
    } else {
        // A stopping rule is simulated on as many replicates again, and a neutral world.
        let runs = if exp.stopping.is_some() { 3 } else { 1 } * replicates;
        let bar = ProgressBar::new(runs as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} replicates ({elapsed}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("planning {}", exp.name));
        bar
    };
    let report = crate::plan::simulate(&exp, replicates, seed, &progress)?;
    progress.finish_and_clear();
    if json {
        return super::print_json(&report);
    }
    let correction = match crate::report::words::correction_name(report.correction) {
        Some(name) => format!("with the {name} correction"),
        None => "without correction for multiple tests".to_string(),
    };
    println!(
        "{}: {} simulated replicates (seed {}), alpha {} {correction}.",
        report.experiment, report.replicates, report.seed, report.alpha
    );
    if let Some(s) = &report.spend {
        println!(
            "Spend per run: mean {:.2} {cur} (95% of runs between {:.2} and {:.2} {cur}); cap {} {cur}.",
            s.mean, s.q025, s.q975, exp.spend_cap, cur = report.currency
        );
    }
    for c in &report.comparisons {
        println!("\nComparison {}:", c.key);
        println!(
            "  power {:.1}% ± {:.1}% (skew detected in {} of {} runs)",
            c.power * 100.0,
            c.power_se * 100.0,
            c.detections,
            report.replicates
        );
        let counted: Vec<String> = c
            .mean_counted
            .iter()
            .map(|(ad, n)| format!("{ad} {n:.0}"))
            .collect();
        println!("  mean counted per ad: {}", counted.join(", "));
        if let Some(e) = &c.estimate {
            println!(
                "  {}: mean {:+.2} points, sd {:.2}, 95% of runs in [{:+.2}, {:+.2}]",
                c.estimate_is,
                e.mean * 100.0,
                e.sd * 100.0,
                e.q025 * 100.0,
                e.q975 * 100.0
            );
        }
    }
    if let Some(s) = &report.stopping {
        print_stopping(s, &report.currency);
    }
    Ok(())
}

/// The stopping rule next to the fixed-horizon design.
fn print_stopping(s: &crate::plan::stopping::StoppingPlan, currency: &str) {
    println!(
        "
Stopping rule `{}` on comparison {} (alpha {}, valid under nightly looks), {} runs of the simulated world and {} of a neutral one:",
        s.rule, s.comparison, s.alpha, s.replicates, s.replicates
    );
    println!(
        "  {:<38} {:>18} {:>18}",
        "", "stopping rule", "fixed horizon"
    );
    println!(
        "  {:<38} {:>18} {:>18}",
        "power",
        pct(s.power),
        pct(s.fixed_power)
    );
    let median = |m: &Option<crate::plan::Summary>, unit: &str| {
        m.as_ref()
            .map_or("-".to_string(), |m| format!("{:.2} {unit}", m.median))
    };
    println!(
        "  {:<38} {:>18} {:>18}",
        "median spend",
        median(&s.spend, currency),
        median(&s.fixed_spend, currency)
    );
    let mean = |m: &Option<crate::plan::Summary>, unit: &str| {
        m.as_ref()
            .map_or("-".to_string(), |m| format!("{:.2} {unit}", m.mean))
    };
    println!(
        "  {:<38} {:>18} {:>18}",
        "expected spend",
        mean(&s.spend, currency),
        mean(&s.fixed_spend, currency)
    );
    println!(
        "  {:<38} {:>18} {:>18}",
        "median days to a conclusion",
        median(&s.days_to_conclusion, "days"),
        "the schedule"
    );
    println!(
        "  {:<38} {:>18} {:>18}",
        "type-I error, looking every night",
        pct(s.type_i),
        pct(s.fixed_type_i_peeking)
    );
    println!(
        "  {:<38} {:>18} {:>18}",
        "type-I error, looking once at the end",
        "-",
        pct(s.fixed_type_i)
    );
    for advice in &s.advice {
        println!(
            "{}",
            wrapped("  Note: ", &advice_text(advice, &s.spend, currency), 92)
        );
    }
}

/// `text` after `lead`, in lines of at most `width` characters (words are not broken),
/// each line after the first indented as far as the text starts.
fn wrapped(lead: &str, text: &str, width: usize) -> String {
    let indent = " ".repeat(lead.chars().count());
    let mut out = lead.to_string();
    let mut line = lead.chars().count();
    for (i, word) in text.split_whitespace().enumerate() {
        let len = word.chars().count();
        if i > 0 && line + 1 + len > width {
            out.push('\n');
            out.push_str(&indent);
            line = indent.len();
        } else if i > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out
}

/// A share as a percentage with one decimal.
fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// One piece of `plan`'s advice on a stopping rule, with its fix.
fn advice_text(
    advice: &crate::plan::stopping::StoppingAdvice,
    spend: &Option<crate::plan::Summary>,
    currency: &str,
) -> String {
    use crate::plan::stopping::StoppingAdvice;
    match advice {
        StoppingAdvice::WaitsForTheWindow {
            window_days,
            max_days,
        } => format!(
            "every look waits {window_days} days for the counts to settle \
             ([schedule] recollect_after_days), as long as the rule's {max_days} days or \
             longer: no day settles before the end, so the rule can conclude only at the \
             re-collection after it. Set recollect_after_days to the platform's revision \
             window (the simulator's is sim.revision_days) or declare [stopping] \
             revision_bound (docs/sequential.md)."
        ),
        StoppingAdvice::LessPower { power, fixed_power } => format!(
            "the rule finds the skew in {} of runs against {} for the fixed test: a \
             sequence valid at every look is wider than one test's interval at the same \
             reach. A longer max_days (more spend) buys power back; at this budget the \
             fixed design is the better plan.",
            pct(*power),
            pct(*fixed_power)
        ),
        StoppingAdvice::NoSaving => format!(
            "the rule saves nothing here (median spend {}, the fixed design's within 5%): \
             it rarely concludes before the schedule ends.",
            spend
                .as_ref()
                .map_or("-".to_string(), |m| format!("{:.2} {currency}", m.median))
        ),
    }
}

/// The question of the analytic mode, as given on the command line.
#[derive(Debug, Serialize)]
struct Analytic {
    p1: f64,
    p2: f64,
    alpha: f64,
    /// The power a sample size is sought for (`--power`).
    #[serde(rename = "power_target")]
    target: f64,
    #[serde(serialize_with = "alternative_name")]
    alternative: AlternativeArg,
    ratio: f64,
    /// People reached by ad 1, when the power at that size is asked (`--n`).
    n: Option<f64>,
}

fn alternative_name<S: serde::Serializer>(
    a: &AlternativeArg,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(name(*a))
}

/// The flag's own spelling (`two-sided`), in text and JSON alike.
fn name(a: AlternativeArg) -> &'static str {
    match a {
        AlternativeArg::TwoSided => "two-sided",
        AlternativeArg::Larger => "larger",
        AlternativeArg::Smaller => "smaller",
    }
}

/// The analytic answer: the power at `--n`, or the sample size for `--power`.
#[derive(Debug, Serialize)]
struct AnalyticPlan<'a> {
    #[serde(flatten)]
    question: &'a Analytic,
    cohens_h: f64,
    /// With `--n`: the power at n (ad 1) and n × ratio (ad 2) people.
    power: Option<f64>,
    /// Without `--n`: people to reach per ad, rounded up, and before rounding.
    n1: Option<f64>,
    n2: Option<f64>,
    n1_exact: Option<f64>,
}

impl Analytic {
    /// Every value in range, and a direction the shares agree with: a one-sided test in
    /// the direction the shares point against has no power at any size, in both modes.
    fn check(&self) -> Result<()> {
        for (flag, v) in [("--p1", self.p1), ("--p2", self.p2)] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::BadInput(format!(
                    "{flag} must be a share strictly between 0 and 1, e.g. {flag} 0.5 (got {v})"
                )));
            }
        }
        let share = |x: f64| x > 0.0 && x < 1.0;
        if !share(self.alpha) || !share(self.target) {
            return Err(Error::BadInput(
                "--alpha and --power must be strictly between 0 and 1, e.g. --alpha 0.05 --power 0.8".into(),
            ));
        }
        if !(self.ratio.is_finite() && self.ratio > 0.0) {
            return Err(Error::BadInput(format!(
                "--ratio must be positive, e.g. --ratio 1 for equal reach (got {})",
                self.ratio
            )));
        }
        if let Some(n) = self.n.filter(|n| !(n.is_finite() && *n > 0.0)) {
            return Err(Error::BadInput(format!(
                "--n must be a positive number of people, e.g. --n 2000 (got {n})"
            )));
        }
        self.check_direction()
    }

    fn check_direction(&self) -> Result<()> {
        let (p1, p2) = (self.p1, self.p2);
        let fix = match self.alternative {
            _ if p1 == p2 => "p1 = p2: there is no difference to detect; give the shares you expect",
            AlternativeArg::Larger if p1 < p2 => {
                "p1 < p2 points against --alternative larger (which tests p1 > p2): use --alternative smaller, or swap --p1 and --p2"
            }
            AlternativeArg::Smaller if p1 > p2 => {
                "p1 > p2 points against --alternative smaller (which tests p1 < p2): use --alternative larger, or swap --p1 and --p2"
            }
            _ => return Ok(()),
        };
        Err(Error::BadInput(format!("--p1 {p1} --p2 {p2}: {fix}")))
    }
}

fn plan_analytic(q: &Analytic, json: bool) -> Result<()> {
    q.check()?;
    let alternative = Alternative::from(q.alternative);
    let h = cohens_h(q.p1, q.p2);
    let mut plan = AnalyticPlan {
        question: q,
        cohens_h: h,
        power: None,
        n1: None,
        n2: None,
        n1_exact: None,
    };
    match q.n {
        Some(n) => plan.power = Some(power(h, n, q.alpha, q.ratio, alternative)),
        None => {
            let n1 = sample_size(h, q.alpha, q.target, q.ratio, alternative).ok_or_else(|| {
                Error::BadInput(format!(
                    "no sample size reaches power {} for p1 = {} vs p2 = {}: ask for less power (--power)",
                    q.target, q.p1, q.p2
                ))
            })?;
            plan.n1_exact = Some(n1);
            plan.n1 = Some(n1.ceil());
            plan.n2 = Some((n1 * q.ratio).ceil());
        }
    }
    if json {
        return super::print_json(&plan);
    }
    print_analytic(&plan);
    Ok(())
}

fn print_analytic(plan: &AnalyticPlan) {
    let q = plan.question;
    println!(
        "Cohen's h = {:.4} for p1 = {} vs p2 = {} ({}, alpha = {}, ratio = {}).",
        plan.cohens_h,
        q.p1,
        q.p2,
        name(q.alternative),
        q.alpha,
        q.ratio
    );
    if let (Some(p), Some(n)) = (plan.power, q.n) {
        println!(
            "Power with {n} people reached by ad 1 and {} by ad 2: {p:.4}",
            n * q.ratio
        );
    }
    if let (Some(n1), Some(n2), Some(exact)) = (plan.n1, plan.n2, plan.n1_exact) {
        println!(
            "People to reach for power {}: {n1} for ad 1 and {n2} for ad 2 ({exact:.2} before rounding up).",
            q.target
        );
    }
}
