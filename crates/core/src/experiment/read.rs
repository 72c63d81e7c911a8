//! Reading a table of an experiment file into its lenient serde structs, so that a
//! researcher fixes a file in one pass: every value of the wrong type is reported (not only
//! the first serde meets), each with the type wanted and the line to write; every unknown
//! key with the known key it most likely meant. Public because the reader of a table the
//! core does not interpret (adskew-sim's `[sim]`) reads it the same way.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Problem;

/// The most wrongly typed values reported of one table (each is one more pass of serde).
const MAX_WRONG_TYPES: usize = 100;

/// The keys a table knows, for "did you mean": those of its first level and those below.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub top: &'a [&'a str],
    pub nested: &'a [&'a str],
}

/// Reads `tree`, the table at `prefix` ("" for the file), as `T`. A value of the wrong type
/// is reported and taken out, and the table read again, until it reads, so every one is
/// reported. Err: the wrong types and unknown keys (rules mean something only once every
/// value has its type); Ok: the table and its unknown keys.
pub fn read_table<T: DeserializeOwned>(
    mut tree: Value,
    prefix: &str,
    known: Known<'_>,
) -> std::result::Result<(T, Vec<Problem>), Vec<Problem>> {
    let mut wrong = Vec::new();
    loop {
        let mut unknown = Vec::new();
        let read = {
            let mut on_unknown = |path: serde_ignored::Path<'_>| {
                let relative = bracket_indices(&path.to_string());
                unknown.push(unknown_key(prefix, &relative, known));
            };
            let ignored = serde_ignored::Deserializer::new(tree.clone(), &mut on_unknown);
            serde_path_to_error::deserialize::<_, T>(ignored)
        };
        let e = match read {
            Ok(raw) if wrong.is_empty() => return Ok((raw, unknown)),
            Ok(_) => return Err([wrong, unknown].concat()),
            Err(e) => e,
        };
        let segments = segments(e.path());
        let taken = take(&mut tree, &segments);
        let relative = bracket_indices(&e.path().to_string());
        wrong.push(wrong_type(
            prefix,
            &relative,
            &segments,
            taken.as_ref(),
            e.inner(),
        ));
        if taken.is_none() || wrong.len() >= MAX_WRONG_TYPES {
            return Err([wrong, unknown].concat());
        }
    }
}

/// One step of a path serde reports: a key of a table or an index of a list.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Step> {
    path.iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
            _ => None,
        })
        .collect()
}

/// Takes the value at `steps` out of `tree` and returns it. A list loses the whole list
/// (its other items would shift), a table only the key.
fn take(tree: &mut Value, steps: &[Step]) -> Option<Value> {
    let (last, parents) = steps.split_last()?;
    let mut at = &mut *tree;
    for (i, step) in parents.iter().enumerate() {
        if matches!(last, Step::Index(_)) && i + 1 == parents.len() {
            break;
        }
        at = match step {
            Step::Key(k) => at.get_mut(k)?,
            Step::Index(n) => at.get_mut(*n)?,
        };
    }
    match (last, parents.last()) {
        (Step::Key(k), _) => at.as_object_mut()?.remove(k),
        (Step::Index(n), Some(Step::Key(list))) => {
            let list = at.as_object_mut()?.remove(list)?;
            list.get(*n).cloned()
        }
        _ => None,
    }
}

/// What a value should be, from serde's "expected ..." (the raw structs' field types).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wanted {
    Number,
    WholeNumber,
    Text,
    Boolean,
    List,
    Table,
}

impl Wanted {
    fn of(serde_message: &str) -> Option<Wanted> {
        let expected = serde_message.rsplit("expected ").next()?;
        Some(match expected {
            e if e.contains("f64") || e.contains("a number") => Wanted::Number,
            e if e.contains("i64") || e.contains("u64") || e.contains("integer") => {
                Wanted::WholeNumber
            }
            e if e.contains("string") => Wanted::Text,
            e if e.contains("bool") => Wanted::Boolean,
            e if e.contains("sequence") => Wanted::List,
            e if e.contains("map") || e.contains("struct") => Wanted::Table,
            _ => return None,
        })
    }

    fn words(self) -> &'static str {
        match self {
            Wanted::Number => "a number",
            Wanted::WholeNumber => "a whole number",
            Wanted::Text => "text in quotes",
            Wanted::Boolean => "true or false",
            Wanted::List => "a list in [ ]",
            Wanted::Table => "a table",
        }
    }

    /// How to write `found` as this type after `key = `, e.g. `600` for "600" as a number,
    /// and whether it is `found` so written (else it is only an example).
    fn example(self, found: Option<&Value>) -> (String, bool) {
        let example = self.example_text(found);
        let generic = ["10", "1", "\"...\"", "true", "[\"...\"]", "{ ... }"];
        let derived = !generic.contains(&example.as_str());
        (example, derived)
    }

    fn example_text(self, found: Option<&Value>) -> String {
        let text = match found {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        };
        match self {
            Wanted::Number if text.parse::<f64>().is_ok_and(f64::is_finite) => text,
            Wanted::Number => "10".to_string(),
            Wanted::WholeNumber => text
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map_or("1".to_string(), |x| format!("{}", x.round() as i64)),
            Wanted::Text if !text.is_empty() => format!("{text:?}"),
            Wanted::Text => "\"...\"".to_string(),
            Wanted::Boolean if text == "true" || text == "false" => text,
            Wanted::Boolean => "true".to_string(),
            Wanted::List if !text.is_empty() => format!("[{text:?}]"),
            Wanted::List => "[\"...\"]".to_string(),
            Wanted::Table => "{ ... }".to_string(),
        }
    }
}

/// `found` in a user's words: `"600" is text`, `600 is a number`.
fn describe(found: &Value) -> String {
    match found {
        Value::String(s) => format!("{s:?} is text"),
        Value::Number(n) => format!("{n} is a number"),
        Value::Bool(b) => format!("{b} is true/false"),
        Value::Array(_) => "a list is given".to_string(),
        Value::Object(_) => "a table is given".to_string(),
        Value::Null => "nothing is given".to_string(),
    }
}

/// The problem of a value of the wrong type at `relative` (below `prefix`).
fn wrong_type(
    prefix: &str,
    relative: &str,
    steps: &[Step],
    found: Option<&Value>,
    error: &serde_json::Error,
) -> Problem {
    let path = join(prefix, if relative == "." { "" } else { relative });
    let path = if path.is_empty() {
        "(file)".to_string()
    } else {
        path
    };
    let message = error.to_string();
    let Some(wanted) = Wanted::of(&message) else {
        return Problem::new(path, format!("wrong type: {message}"))
            .hint("numbers unquoted, text in quotes, lists in [ ]; see campaigns/README.md");
    };
    let is_item = matches!(steps.last(), Some(Step::Index(_)));
    let key = steps
        .iter()
        .rev()
        .find_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .unwrap_or("value");
    let what = found.map_or_else(|| "the value".to_string(), describe);
    let (example, derived) = wanted.example(found);
    let lead = if derived { ":" } else { ", e.g." };
    let hint = if is_item {
        format!("each item is {}{lead} {key} = [{example}]", wanted.words())
    } else {
        format!("write {}{lead} {key} = {example}", wanted.words())
    };
    Problem::new(path, format!("wrong type: {what}")).hint(hint)
}

/// The problem of an unknown key at `relative` (below `prefix`), with the known key it most
/// likely meant: among the table's first-level keys or those below, as it is.
fn unknown_key(prefix: &str, relative: &str, known: Known<'_>) -> Problem {
    let path = join(prefix, relative);
    let last = path.rsplit(['.', ']']).next().unwrap_or("").to_string();
    let nested = relative.contains(['.', '[']);
    let candidates = if nested { known.nested } else { known.top };
    let mut problem = Problem::new(path, "unknown field");
    match closest(&last, candidates) {
        Some(best) => {
            problem = problem.hint(format!("did you mean `{best}`?"));
            problem.meant = Some(best.to_string());
        }
        None => {
            problem = problem.hint("remove it, or see campaigns/README.md for the fields");
        }
    }
    problem
}

/// How alike two keys are below which none is suggested.
const LIKENESS: f64 = 0.7;

/// The key of `known` closest to `typed`, if one is close. Keys are compared without their
/// separators and case, in any order of their words (`spendcap_daily` is
/// `daily_spend_cap`), by normalised Levenshtein similarity.
pub fn closest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (*k, likeness(typed, k)))
        .filter(|(_, score)| *score >= LIKENESS)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

fn likeness(typed: &str, known: &str) -> f64 {
    let squash = |s: &str| s.to_lowercase().replace(['_', '-', ' '], "");
    let typed = squash(typed);
    let words: Vec<&str> = known.split('_').filter(|w| !w.is_empty()).collect();
    orders(&words)
        .iter()
        .map(|order| strsim::normalized_levenshtein(&typed, &squash(order)))
        .fold(0.0, f64::max)
}

/// Every order of `words` joined (at most 4 words are permuted; more keep their order).
fn orders(words: &[&str]) -> Vec<String> {
    if words.len() <= 1 || words.len() > 4 {
        return vec![words.concat()];
    }
    let mut out = Vec::new();
    for (i, first) in words.iter().enumerate() {
        let rest: Vec<&str> = words
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, w)| *w)
            .collect();
        for tail in orders(&rest) {
            out.push(format!("{first}{tail}"));
        }
    }
    out
}

/// `prefix.key`, or `key` at the top.
pub(super) fn join(prefix: &str, key: &str) -> String {
    match (prefix.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}.{key}"),
    }
}

/// `ads.2.key` -> `ads[2].key`, the notation used in every message.
pub(super) fn bracket_indices(path: &str) -> String {
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

/// Where each key and value of a TOML file is, by its path in the notation of every message
/// (`ads[1].daily_budget`), so a problem can name its line.
#[derive(Debug, Default)]
pub struct Lines {
    at: BTreeMap<String, usize>,
}

impl Lines {
    /// The lines of `text` (none if it is not TOML).
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
                    let line = line_at(text, item.span().start);
                    self.at.entry(p.clone()).or_insert(line);
                    self.walk_value(text, item.get_ref(), &p);
                }
            }
            _ => {}
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_sequence_indices() {
        assert_eq!(bracket_indices("ads.2.key"), "ads[2].key");
        assert_eq!(bracket_indices("sim.ads.x.gender"), "sim.ads.x.gender");
    }

    /// Words in another order and typos find their key; nothing close finds nothing.
    #[test]
    fn suggests_the_closest_key_or_none() {
        let known = [
            "spend_cap",
            "daily_spend_cap",
            "duration_days",
            "seed",
            "gender",
        ];
        assert_eq!(closest("spendcap_daily", &known), Some("daily_spend_cap"));
        assert_eq!(closest("spend_capp", &known), Some("spend_cap"));
        assert_eq!(closest("duration_dayz", &known), Some("duration_days"));
        assert_eq!(closest("SEEED", &known), Some("seed"));
        assert_eq!(closest("gendr", &known), Some("gender"));
        assert_eq!(closest("colour", &known), None);
        assert_eq!(closest("x", &known), None);
    }

    /// Lines are found for keys, nested keys and items of arrays of tables.
    #[test]
    fn finds_the_line_of_each_path() {
        let lines = Lines::new("a = 1\n\n[b]\nc = 2\n\n[[d]]\ne = 3\n[[d]]\ne = 4\n");
        assert_eq!(lines.of("a"), Some(1));
        assert_eq!(lines.of("b.c"), Some(4));
        assert_eq!(lines.of("d[1].e"), Some(9));
        assert_eq!(lines.of("z"), None);
    }
}
