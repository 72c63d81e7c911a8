//! Experiments that describe data adskew did not collect itself: a counts file
//! (`analyze --counts`) or Ads Manager exports (`adskew import`).
//!
//! The description is written as experiment TOML and goes through the same loading and
//! validation as a file a researcher wrote, so analysis, reports and the store see an
//! ordinary [`Experiment`] and there is one place that knows what an experiment is. What
//! the data cannot say (budgets, targeting, links) is filled with placeholders, and the
//! generated text says so, because it is stored and shown as the run's experiment file.

use std::path::Path;

use chrono::NaiveDate;

use super::Experiment;
use crate::error::Result;
use crate::money::Money;
use crate::vocab::{Breakdown, Metric};

/// What the data say about the experiment behind them.
#[derive(Debug, Clone)]
pub struct Description {
    pub name: String,
    pub description: String,
    /// Where the data came from (the first comment line of the generated file).
    pub origin: String,
    pub currency: String,
    /// A placeholder: the data do not say the cap, but validation needs a positive one.
    pub spend_cap: Money,
    /// `(key, headline)` of each ad.
    pub ads: Vec<(String, String)>,
    /// `(key, ads)` of each comparison.
    pub comparisons: Vec<(String, Vec<String>)>,
    pub breakdowns: Vec<Breakdown>,
    pub metric: Metric,
    /// The first day of delivery and the day after the last.
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A TOML string literal (quotes and backslashes escaped).
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| quoted(i.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

impl Description {
    /// The experiment file this description amounts to.
    pub fn toml(&self) -> String {
        let mut toml = format!(
            "# {}\n# The ads, comparisons, breakdowns, currency and dates come from the data. The audience,\n\
             # budgets, links and spend cap are placeholders (the data do not say them); nothing\n\
             # is ever launched from this experiment.\n\
             name = {}\ndescription = {}\nplatform = \"meta\"\ncurrency = {}\nspend_cap = {}\n\n\
             [schedule]\nstart = \"{}T00:00:00Z\"\nend = \"{}T00:00:00Z\"\nrecollect_after_days = 0\n\n\
             [audience]\ncountries = [\"ZZ\"]\n\n",
            self.origin,
            quoted(&self.name),
            quoted(&self.description),
            quoted(&self.currency),
            self.spend_cap.max(Money(1)),
            self.start,
            self.end.max(self.start.succ_opt().unwrap_or(self.start)),
        );
        for (key, headline) in &self.ads {
            toml += &format!(
                "[[ads]]\nkey = {}\nheadline = {}\nbody = \"(not in the data)\"\nlink = {}\ndaily_budget = 1.0\n\n",
                quoted(key),
                quoted(headline),
                quoted(&format!("https://example.org/{key}")),
            );
        }
        for (key, ads) in &self.comparisons {
            toml += &format!(
                "[[comparisons]]\nkey = {}\nads = {}\n\n",
                quoted(key),
                list(ads)
            );
        }
        toml += &format!(
            "[collect]\nbreakdowns = {}\n\n[analysis]\nmetric = {}\n",
            list(self.breakdowns.iter().map(|b| b.as_str())),
            quoted(self.metric.as_str()),
        );
        toml
    }

    /// The validated experiment; `path` names it in messages and in the store.
    pub fn experiment(&self, path: &Path) -> Result<Experiment> {
        Ok(super::load::load_text(path, self.toml(), Vec::new())?.experiment)
    }
}

/// Comparisons of ads nobody paired by hand: all of them together (`all`) and, with more
/// than two, every pair (`a-vs-b`, or `pair-1-2` by position where that key would be longer
/// than a key may be).
pub fn all_and_pairwise(ads: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out = vec![("all".to_string(), ads.to_vec())];
    if ads.len() > 2 {
        for (i, a) in ads.iter().enumerate() {
            for (j, b) in ads.iter().enumerate().skip(i + 1) {
                let mut key = format!("{a}-vs-{b}");
                if key.len() > 64 {
                    key = format!("pair-{}-{}", i + 1, j + 1);
                }
                out.push((key, vec![a.clone(), b.clone()]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(headline: &str) -> Description {
        Description {
            name: "x".into(),
            description: "from \"somewhere\"".into(),
            origin: "test".into(),
            currency: "EUR".into(),
            spend_cap: Money(0),
            ads: vec![
                ("a".into(), headline.into()),
                ("b".into(), "B".into()),
                ("c".into(), "C".into()),
            ],
            comparisons: all_and_pairwise(&["a".into(), "b".into(), "c".into()]),
            breakdowns: vec![Breakdown::Gender, Breakdown::Age],
            metric: Metric::Reach,
            start: NaiveDate::from_ymd_opt(2020, 8, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2020, 8, 27).unwrap(),
        }
    }

    #[test]
    fn a_description_is_a_valid_experiment() {
        let exp = description("DE - \"Friseur\\in\"")
            .experiment(Path::new("(test)"))
            .unwrap();
        assert_eq!(exp.ads[0].headline, "DE - \"Friseur\\in\"");
        assert_eq!(exp.description, "from \"somewhere\"");
        assert_eq!(exp.currency, "EUR");
        assert_eq!(exp.collect.breakdowns, [Breakdown::Gender, Breakdown::Age]);
        let keys: Vec<&str> = exp.comparisons.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["all", "a-vs-b", "a-vs-c", "b-vs-c"]);
        assert_eq!(exp.schedule.duration, chrono::TimeDelta::days(26));
    }

    #[test]
    fn long_pairs_are_named_by_position() {
        let long = "x".repeat(60);
        let pairs = all_and_pairwise(&[long.clone(), "b".into(), "c".into()]);
        assert_eq!(pairs[1].0, "pair-1-2");
        assert_eq!(pairs[3].0, "b-vs-c");
        assert_eq!(all_and_pairwise(&["a".into(), "b".into()]).len(), 1);
    }
}
