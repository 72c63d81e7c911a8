//! Reading an experiment: the file, then `ADSKEW_*` environment overrides, through the
//! `config` crate, into [`RawExperiment`], then [`validate`](super::validate).
//!
//! Overrides use `__` between levels: `ADSKEW_SPEND_CAP=200`, `ADSKEW_SIM__SEED=7`,
//! `ADSKEW_SCHEDULE__DURATION_DAYS=3`. Only variables whose first level is an experiment
//! field are read, so account settings such as `ADSKEW_DB` never leak into an experiment.
//! Every override applied is recorded in [`Source::overrides`] and so in every report.

use std::collections::BTreeMap;
use std::path::Path;

use config::{Config, Environment, File, FileFormat};

use super::read::{read_table, Known, Lines};
use super::schema::RawExperiment;
use super::validate::{validate, TableCheck, NESTED_FIELDS, TOP_LEVEL_FIELDS};
use super::{Experiment, Problem, Source};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};

/// A validated experiment and the warnings validation raised (things allowed but risky).
#[derive(Debug)]
pub struct Loaded {
    pub experiment: Experiment,
    pub warnings: Vec<String>,
}

/// Loads and validates an experiment file with the process environment's overrides;
/// `checks` check the tables the core carries without reading them (`[sim]`: pass
/// `adskew_sim::check`), so their problems are reported with the rest.
pub fn load(path: &Path, checks: &[TableCheck]) -> Result<Loaded> {
    let text = read_experiment(path)?;
    load_checked(path, text, std::env::vars(), checks)
}

/// Like [`load`], with the environment given explicitly and no table checks (for tests
/// and benchmarks of files known to be valid).
pub fn load_with_env(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded> {
    load_text(path, read_experiment(path)?, env)
}

/// The largest experiment file adskew reads, 1 MiB: an experiment is a few kilobytes, and
/// its text is stored whole in the database and in every report of its runs.
pub const MAX_EXPERIMENT_BYTES: u64 = 1024 * 1024;

/// The experiment file's text: a file (not a folder), at most [`MAX_EXPERIMENT_BYTES`].
fn read_experiment(path: &Path) -> Result<String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| {
        Error::BadInput(format!(
            "cannot read experiment file {}: {e} (check the path; examples are in campaigns/)",
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().map_err(cannot)?.is_dir() {
        return Err(Error::BadInput(format!(
            "{} is a folder, not an experiment file (give the path of its .toml file, e.g. campaigns/pilot_two_ads.toml)",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_EXPERIMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_EXPERIMENT_BYTES {
        return Err(Error::BadInput(format!(
            "experiment file {} is larger than the limit of 1 MiB ({MAX_EXPERIMENT_BYTES} bytes; it is stored whole in the database and every report): \
             an experiment is a few kilobytes, so check that this is the right file",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::BadInput(format!(
            "experiment file {} is not UTF-8 text (byte {}): save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// [`load_with_env`] for experiment text already in memory; `path` names it in messages
/// and resolves relative image paths.
pub fn load_text(
    path: &Path,
    text: String,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded> {
    load_checked(path, text, env, &[])
}

/// [`load_text`] with `checks` of the tables the core does not read. Every problem names
/// its line in the file, or the `ADSKEW_*` variable that set its value.
pub fn load_checked(
    path: &Path,
    text: String,
    env: impl IntoIterator<Item = (String, String)>,
    checks: &[TableCheck],
) -> Result<Loaded> {
    let overrides = experiment_overrides(env);
    let lines = Lines::new(&text);
    let invalid = |mut problems: Vec<Problem>| {
        locate(&mut problems, &lines, &overrides);
        // In the order of the file, as a researcher fixes it; those it lacks first.
        problems.sort_by_key(|p| p.line.unwrap_or(0));
        Error::Invalid {
            path: path.to_path_buf(),
            problems,
        }
    };
    let tree = merge(&text, &overrides).map_err(invalid)?;
    let (raw, unknown) = read_table::<RawExperiment>(tree, "", FIELDS).map_err(invalid)?;

    let source = Source {
        path: path.to_path_buf(),
        sha256: sha256_hex(text.as_bytes()),
        text: text.clone(),
        overrides: overrides.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    match validate(&raw, source, base_dir, checks) {
        Ok((experiment, warnings)) if unknown.is_empty() => Ok(Loaded {
            experiment,
            warnings,
        }),
        Ok(_) => Err(invalid(unknown)),
        Err(problems) => Err(invalid([unknown, problems].concat())),
    }
}

/// The file's tree with the `overrides` on top; its syntax errors and non-finite numbers
/// as problems.
fn merge(
    text: &str,
    overrides: &BTreeMap<String, String>,
) -> std::result::Result<serde_json::Value, Vec<Problem>> {
    // The toml crate gives line and column for syntax errors; config would not.
    let value = toml::from_str::<toml::Value>(text).map_err(|e| {
        let location = e
            .span()
            .map(|span| format!("line {}", line_at(text, span.start)))
            .unwrap_or_else(|| "(file)".to_string());
        vec![
            Problem::new(location, format!("TOML syntax error: {}", e.message()))
                .hint("see campaigns/README.md for the file format"),
        ]
    })?;
    // JSON, which the merged tree passes through, has no inf or nan: catch them here by
    // path, or they would arrive as "missing".
    let mut non_finite = Vec::new();
    find_non_finite(&value, "", &mut non_finite);
    if !non_finite.is_empty() {
        return Err(non_finite);
    }
    let config_problem = |e: config::ConfigError| {
        vec![Problem::new("(file)", e.to_string())
            .hint("check the file and the ADSKEW_* variables; see campaigns/README.md")]
    };
    Config::builder()
        .add_source(File::from_str(text, FileFormat::Toml))
        .add_source(
            Environment::with_prefix("ADSKEW")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(overrides.clone().into_iter().collect())),
        )
        .build()
        .map_err(config_problem)?
        .try_deserialize()
        .map_err(config_problem)
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Names where each problem is: the `ADSKEW_*` variable that set its value (an unknown
/// key's hint then spells the variable meant), else its line in the file.
fn locate(problems: &mut [Problem], lines: &Lines, overrides: &BTreeMap<String, String>) {
    for p in problems.iter_mut() {
        let set_by = overrides.keys().find(|var| {
            let field = override_path(var);
            p.path == field
                || p.path.starts_with(&format!("{field}."))
                || p.path.starts_with(&format!("{field}["))
        });
        match set_by {
            Some(var) => {
                if let Some(meant) = &p.meant {
                    let stem = var.rsplit_once("__").map_or("ADSKEW", |(stem, _)| stem);
                    let sep = if stem == "ADSKEW" { "_" } else { "__" };
                    p.hint = Some(format!(
                        "did you mean {stem}{sep}{}?",
                        meant.to_ascii_uppercase()
                    ));
                }
                p.variable = Some(var.clone());
            }
            None => p.line = lines.of(&p.path),
        }
    }
}

/// The field an override sets: `ADSKEW_SIM__SEED` -> `sim.seed`.
fn override_path(var: &str) -> String {
    var.trim_start_matches("ADSKEW_")
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(".")
}

/// Collects every `inf` or `nan` in a TOML tree as a problem at its path.
fn find_non_finite(value: &toml::Value, path: &str, out: &mut Vec<Problem>) {
    match value {
        toml::Value::Float(f) if !f.is_finite() => out.push(
            Problem::new(path, format!("must be a finite number (got {f})"))
                .hint("write a number such as 20.0"),
        ),
        toml::Value::Table(t) => {
            for (k, v) in t {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                find_non_finite(v, &p, out);
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                find_non_finite(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Picks the `ADSKEW_*` variables that address experiment fields.
fn experiment_overrides(
    env: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    env.into_iter()
        .filter(|(key, _)| {
            key.strip_prefix("ADSKEW_")
                .and_then(|rest| rest.split("__").next())
                .is_some_and(|first| {
                    TOP_LEVEL_FIELDS.contains(&first.to_ascii_lowercase().as_str())
                })
        })
        .collect()
}

/// The keys the core knows, for "did you mean" hints.
const FIELDS: Known<'static> = Known {
    top: TOP_LEVEL_FIELDS,
    nested: NESTED_FIELDS,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_name_their_field() {
        assert_eq!(override_path("ADSKEW_SIM__SEED"), "sim.seed");
        assert_eq!(override_path("ADSKEW_SPEND_CAP"), "spend_cap");
    }

    #[test]
    fn only_experiment_fields_are_overridden() {
        let env = vec![
            ("ADSKEW_SPEND_CAP".to_string(), "10".to_string()),
            ("ADSKEW_SIM__SEED".to_string(), "7".to_string()),
            ("ADSKEW_DB".to_string(), "x.db".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let picked = experiment_overrides(env);
        assert_eq!(picked.len(), 2);
        assert!(picked.contains_key("ADSKEW_SIM__SEED"));
    }
}
