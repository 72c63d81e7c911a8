//! `adskew adjust`: corrects a list of p-values given on the command line, in a file or on
//! stdin, as statsmodels' `multipletests` does (Bonferroni, Holm, Benjamini–Hochberg), with
//! the same code the analysis corrects its own tests with (`analysis::correction`). For a
//! reviewer re-checking the tests of a paper, which no run of adskew produced.
//!
//! Every value is checked before anything is printed: a value that is not a number from 0
//! to 1 is refused with where it was (argument number, or file and line) and the fix, exit
//! code 2, and every such problem is listed at once (the first twenty).

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use crate::analysis::correction;
use crate::cli::AdjustArgs;
use crate::error::{Error, Result};
use crate::vocab::Correction;
use adskew_core::text::printable;

/// How many problems are listed; the rest are counted.
const MAX_PROBLEMS: usize = 20;

/// What a value must be, for messages.
const P_FIX: &str = "give p-values as numbers from 0 to 1, e.g. 0.03 or 1e-8";

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Adjusted {
    method: Correction,
    alpha: f64,
    tests: usize,
    p_values: Vec<f64>,
    adjusted: Vec<f64>,
    /// Whether each adjusted p is below `alpha`, as the analysis decides (statsmodels'
    /// `reject` counts an adjusted p equal to alpha too; they differ only there).
    reject: Vec<bool>,
}

pub fn execute(args: AdjustArgs) -> Result<()> {
    let p_values = match &args.file {
        Some(file) => from_file(file)?,
        None => from_arguments(&args.p_values)?,
    };
    let method = args.method;
    if method == Correction::None {
        return Err(Error::BadInput(format!(
            "--method none adjusts nothing; use one of: bonferroni, holm, bh (e.g. --method \
             holm; {} are the choices of `analyze --correction`)",
            Correction::choices()
        )));
    }
    let adjusted = correction::adjust(&p_values, method);
    let reject = adjusted.iter().map(|p| *p < args.alpha).collect();
    let out = Adjusted {
        method,
        alpha: args.alpha,
        tests: p_values.len(),
        p_values,
        adjusted,
        reject,
    };
    if args.output.json {
        return super::print_json(&out);
    }
    print_table(&out);
    Ok(())
}

/// The values given as arguments, or every problem with them.
fn from_arguments(given: &[String]) -> Result<Vec<f64>> {
    if given.is_empty() {
        return Err(Error::BadInput(
            "no p-values: give them as arguments (adskew adjust --method holm 0.01 0.04 0.03) \
             or in a file, one or more per line (--file FILE, or --file - for stdin)"
                .into(),
        ));
    }
    let mut problems = Vec::new();
    let values = given
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            p_value(v)
                .map_err(|e| problems.push(format!("argument {}: {e}", i + 1)))
                .ok()
        })
        .collect();
    finish(problems, "the arguments")?;
    Ok(values)
}

/// The values of `file` (`-`: stdin): separated by commas, semicolons, tabs or spaces, any
/// number per line; blank lines and lines starting with `#` are skipped.
fn from_file(file: &Path) -> Result<Vec<f64>> {
    let (name, text) = read_text(file)?;
    let mut problems = Vec::new();
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for v in line
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|v| !v.is_empty())
        {
            match p_value(v) {
                Ok(p) => values.push(p),
                Err(e) => problems.push(format!("{name}: line {}: {e}", i + 1)),
            }
        }
    }
    finish(problems, &name)?;
    if values.is_empty() {
        return Err(Error::BadInput(format!(
            "{name} holds no p-values: write them one or more per line (e.g. 0.01, 0.04)"
        )));
    }
    Ok(values)
}

/// The file's text and the name messages give it.
fn read_text(file: &Path) -> Result<(String, String)> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Error::BadInput(format!(
                "cannot read p-values from stdin: {e}; give UTF-8 text"
            ))
        })?;
        return Ok(("stdin".to_string(), text));
    }
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::BadInput(format!(
            "cannot read {name}: {e}; give a text file of p-values (or - for stdin)"
        ))
    })?;
    Ok((name, text))
}

/// One value as a p-value, or why it is not one.
fn p_value(v: &str) -> std::result::Result<f64, String> {
    match v.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        Ok(p) if p.is_nan() => Err(format!("`{v}` is not a number; {P_FIX}")),
        Ok(_) => Err(format!("`{v}` is outside 0 to 1; {P_FIX}")),
        Err(_) => Err(format!("`{}` is not a number; {P_FIX}", printable(v))),
    }
}

/// Every problem found, as one error naming `source` (nothing printed), or `Ok`.
fn finish(problems: Vec<String>, source: &str) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut text = match problems.len() {
        1 => String::new(),
        n => format!("{source}: {n} values are not p-values; fix them and run again:\n"),
    };
    text.push_str(&problems[..problems.len().min(MAX_PROBLEMS)].join("\n"));
    if problems.len() > MAX_PROBLEMS {
        text.push_str(&format!("\nand {} more", problems.len() - MAX_PROBLEMS));
    }
    Err(Error::BadInput(text))
}

fn print_table(out: &Adjusted) {
    let name = crate::report::words::correction_name(out.method).unwrap_or("no");
    println!(
        "{name} correction of {} p-value{} (reject: adjusted p < {}):",
        out.tests,
        if out.tests == 1 { "" } else { "s" },
        out.alpha
    );
    println!("{:>14}  {:>14}  reject", "p", "adjusted p");
    for ((p, a), r) in out.p_values.iter().zip(&out.adjusted).zip(&out.reject) {
        println!(
            "{:>14}  {:>14}  {}",
            significant(*p),
            significant(*a),
            if *r { "yes" } else { "no" }
        );
    }
}

/// `x` to six significant digits: decimals down to 10⁻⁴, else in e-notation.
fn significant(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let exponent = x.abs().log10().floor() as i32;
    if exponent >= -4 {
        let decimals = (5 - exponent).max(0) as usize;
        let s = format!("{x:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            &s
        };
        s.to_string()
    } else {
        format!("{x:.5e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_significant_digits() {
        assert_eq!(significant(0.053_333_333_333), "0.0533333");
        assert_eq!(significant(0.09000000000000001), "0.09");
        assert_eq!(significant(1.0), "1");
        assert_eq!(significant(1e-10), "1.00000e-10");
        assert_eq!(significant(0.000_123_456_78), "0.000123457");
    }

    #[test]
    fn values_outside_zero_to_one_are_named() {
        let e = from_arguments(&["0.01".into(), "1.5".into(), "x".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("argument 2: `1.5` is outside 0 to 1"), "{e}");
        assert!(e.contains("argument 3: `x` is not a number"), "{e}");
    }
}
