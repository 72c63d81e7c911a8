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

/// The experiment file's text.
fn read_experiment(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::BadInput(format!(
            "cannot read experiment file {}: {e} (check the path; examples are in campaigns/)",
            path.display()
        ))
    })?;
    Ok(text)
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

/// [`load_text`] with `checks` of the tables the core does not read.
pub fn load_checked(
    path: &Path,
    text: String,
    env: impl IntoIterator<Item = (String, String)>,
    checks: &[TableCheck],
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

    let lines = Lines::new(&text);
    let (raw, unknown) = read_table::<RawExperiment>(tree, "", FIELDS, &lines).map_err(invalid)?;

    let source = Source {
        path: path.to_path_buf(),
        sha256: sha256_hex(text.as_bytes()),
        text,
        overrides: overrides.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    };
    let base_dir = path.parent().unwrap_or(Path::new("."));
    match validate(&raw, source, base_dir, checks) {
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

/// The keys the core knows at every level, for "did you mean" hints.
const FIELDS: &[&[&str]] = &[TOP_LEVEL_FIELDS, NESTED_FIELDS];

/// Where each key and value of a TOML file is, by its path in the notation of every message
/// (`ads[1].daily_budget`), so a problem can name its line.
#[derive(Debug, Default)]
pub struct Lines {
    at: BTreeMap<String, usize>,
}

impl Lines {
    /// The lines of `text` (none if it is not TOML, or is empty, as a stored experiment's).
    pub fn new(text: &str) -> Lines {
        let mut lines = Lines::default();
        if let Ok(table) = toml::de::DeTable::parse(text) {
            lines.walk_table(text, table.get_ref(), "");
        }
        lines
    }

    /// The 1-based line of `path`, if the file has it.
    pub fn of(&self, path: &str) -> Option<usize> {
        self.at.get(path).copied()
    }

    fn walk_table(&mut self, text: &str, table: &toml::de::DeTable<'_>, prefix: &str) {
        for (key, value) in table {
            let path = join(prefix, key.get_ref());
            self.at
                .insert(path.clone(), line_at(text, key.span().start));
            self.walk_value(text, value.get_ref(), &path);
        }
    }

    fn walk_value(&mut self, text: &str, value: &toml::de::DeValue<'_>, path: &str) {
        match value {
            toml::de::DeValue::Table(t) => self.walk_table(text, t, path),
            toml::de::DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.at
                        .entry(p.clone())
                        .or_insert(line_at(text, item.span().start));
                    self.walk_value(text, item.get_ref(), &p);
                }
            }
            _ => {}
        }
    }
}

/// `prefix.key`, or `key` at the top.
fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads `tree`, the table at `prefix` ("" for the file), as `T`, collecting unknown keys
/// (typos) as problems with the closest key of `known` instead of ignoring them. Public so
/// that the reader of a table the core does not interpret (`[sim]`) reads it the same way.
pub fn read_table<T: serde::de::DeserializeOwned + Default>(
    tree: serde_json::Value,
    prefix: &str,
    known: &[&[&str]],
    lines: &Lines,
) -> std::result::Result<(T, Vec<Problem>), Vec<Problem>> {
    let _ = lines;
    let mut problems = Vec::new();
    let raw = {
        let mut on_unknown = |path: serde_ignored::Path<'_>| {
            let path = join(prefix, &bracket_indices(&path.to_string()));
            let last = path.rsplit(['.', ']']).next().unwrap_or("").to_string();
            let mut problem = Problem::new(path, "unknown field");
            if let Some(best) = known
                .iter()
                .flat_map(|k| k.iter())
                .filter(|k| strsim::jaro_winkler(k, &last) > 0.85)
                .max_by(|a, b| {
                    strsim::jaro_winkler(a, &last).total_cmp(&strsim::jaro_winkler(b, &last))
                })
            {
                problem = problem.hint(format!("did you mean `{best}`?"));
            } else {
                problem = problem.hint("remove it, or see campaigns/README.md for the fields");
            }
            problems.push(problem);
        };
        let ignored = serde_ignored::Deserializer::new(tree, &mut on_unknown);
        serde_path_to_error::deserialize::<_, T>(ignored)
    };
    match raw {
        Ok(raw) => Ok((raw, problems)),
        Err(e) => {
            let path = bracket_indices(&e.path().to_string());
            let path = if path == "." { String::new() } else { path };
            let path = join(prefix, &path);
            problems.push(
                Problem::new(
                    if path.is_empty() {
                        "(file)".to_string()
                    } else {
                        path
                    },
                    format!("wrong type: {}", e.inner()),
                )
                .hint("check the value's type: numbers unquoted, text in quotes, lists in [ ]"),
            );
            Err(problems)
        }
    }
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
