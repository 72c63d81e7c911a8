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

use super::schema::RawExperiment;
use super::validate::{validate, NESTED_FIELDS, TOP_LEVEL_FIELDS};
use super::{Experiment, Problem, Source};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};

/// A validated experiment and the warnings validation raised (things allowed but risky).
#[derive(Debug)]
pub struct Loaded {
    pub experiment: Experiment,
    pub warnings: Vec<String>,
}

/// Loads and validates an experiment file with the process environment's overrides.
pub fn load(path: &Path) -> Result<Loaded> {
    load_with_env(path, std::env::vars())
}

/// Like [`load`], with the environment given explicitly (for tests).
pub fn load_with_env(
    path: &Path,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::BadInput(format!(
            "cannot read experiment file {}: {e} (check the path; examples are in campaigns/)",
            path.display()
        ))
    })?;
    load_text(path, text, env)
}

/// [`load_with_env`] for experiment text already in memory; `path` names it in messages
/// and resolves relative image paths.
pub fn load_text(
    path: &Path,
    text: String,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded> {
    let invalid = |problems: Vec<Problem>| Error::Invalid {
        path: path.to_path_buf(),
        problems,
    };

    // The toml crate gives line and column for syntax errors; config would not.
    if let Err(e) = toml::from_str::<toml::Value>(&text) {
        let message = e.message().to_string();
        let location = e
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                format!("line {line}")
            })
            .unwrap_or_else(|| "(file)".to_string());
        return Err(invalid(vec![Problem::new(
            location,
            format!("TOML syntax error: {message}"),
        )
        .hint("see campaigns/README.md for the file format")]));
    }

    // JSON, which the merged tree passes through, has no inf or nan: catch them here by
    // path, or they would arrive as "missing".
    let mut non_finite = Vec::new();
    if let Ok(value) = toml::from_str::<toml::Value>(&text) {
        find_non_finite(&value, "", &mut non_finite);
    }
    if !non_finite.is_empty() {
        return Err(invalid(non_finite));
    }

    let overrides = experiment_overrides(env);
    let built = Config::builder()
        .add_source(File::from_str(&text, FileFormat::Toml))
        .add_source(
            Environment::with_prefix("ADSKEW")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(overrides.clone().into_iter().collect())),
        )
        .build()
        .map_err(|e| invalid(vec![Problem::new("(file)", e.to_string())]))?;
    let tree: serde_json::Value = built
        .try_deserialize()
        .map_err(|e| invalid(vec![Problem::new("(file)", e.to_string())]))?;

    let (raw, unknown) = deserialize_raw(tree).map_err(|p| invalid(vec![p]))?;

    let source = Source {
        path: path.to_path_buf(),
        sha256: sha256_hex(text.as_bytes()),
        text,
        overrides: overrides.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    match validate(&raw, source, base_dir) {
        Ok((experiment, warnings)) if unknown.is_empty() => Ok(Loaded {
            experiment,
            warnings,
        }),
        Ok(_) => Err(invalid(unknown)),
        Err(mut problems) => {
            problems.splice(0..0, unknown);
            Err(invalid(problems))
        }
    }
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

/// Deserialises the merged tree, collecting unknown keys (typos) instead of ignoring them.
fn deserialize_raw(
    tree: serde_json::Value,
) -> std::result::Result<(RawExperiment, Vec<Problem>), Problem> {
    let mut unknown = Vec::new();
    let raw = {
        let mut on_unknown = |path: serde_ignored::Path<'_>| {
            let path = bracket_indices(&path.to_string());
            let last = path.rsplit(['.', ']']).next().unwrap_or("").to_string();
            let mut problem = Problem::new(path, "unknown field");
            if let Some(best) = TOP_LEVEL_FIELDS
                .iter()
                .chain(NESTED_FIELDS)
                .filter(|k| strsim::jaro_winkler(k, &last) > 0.85)
                .max_by(|a, b| {
                    strsim::jaro_winkler(a, &last).total_cmp(&strsim::jaro_winkler(b, &last))
                })
            {
                problem = problem.hint(format!("did you mean `{best}`?"));
            } else {
                problem = problem.hint("remove it, or see campaigns/README.md for the fields");
            }
            unknown.push(problem);
        };
        let ignored = serde_ignored::Deserializer::new(tree, &mut on_unknown);
        serde_path_to_error::deserialize::<_, RawExperiment>(ignored).map_err(|e| {
            let path = bracket_indices(&e.path().to_string());
            Problem::new(
                if path == "." {
                    "(file)".to_string()
                } else {
                    path
                },
                format!("wrong type: {}", e.inner()),
            )
            .hint("check the value's type: numbers unquoted, text in quotes, lists in [ ]")
        })?
    };
    Ok((raw, unknown))
}

/// `ads.2.key` -> `ads[2].key`, the notation used in every message.
fn bracket_indices(path: &str) -> String {
    let mut out = String::new();
    for segment in path.split('.').filter(|s| *s != "?") {
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_sequence_indices() {
        assert_eq!(bracket_indices("ads.2.key"), "ads[2].key");
        assert_eq!(bracket_indices("sim.ads.x.gender"), "sim.ads.x.gender");
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
