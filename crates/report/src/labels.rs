//! Display labels: the names a report shows for ads, comparisons and groups, from the
//! experiment (an ad's or a comparison's `label`, `[figures.groups]`) or `adskew report
//! --label`, else the key. One place decides, so a figure, its legend, its caption and the
//! tables never name the same thing two ways.

use adskew_core::experiment::{Design, Experiment};

/// The labels of one experiment.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// `None`: no experiment at hand (a report rendered from an analysis alone), so
    /// every name is its key.
    experiment: Option<&'a Experiment>,
}

impl<'a> Labels<'a> {
    pub fn of(experiment: &'a Experiment) -> Self {
        Labels {
            experiment: Some(experiment),
        }
    }

    /// Every name its key.
    pub fn keys() -> Self {
        Labels { experiment: None }
    }

    fn ad_label(&self, ad: &str) -> Option<&'a str> {
        self.experiment?.ad(ad)?.label.as_deref()
    }

    /// An ad's label, or its key; a partition's ad (`key@A`) as "label (A)".
    pub fn ad(&self, key: &str) -> String {
        let (ad, partition) = Design::split_key(key);
        let name = self.ad_label(ad).unwrap_or(ad).to_string();
        match partition {
            Some(p) => format!("{name} ({p})"),
            None => name,
        }
    }

    /// A comparison's label, or its key.
    pub fn comparison(&self, key: &str) -> String {
        self.experiment
            .and_then(|e| e.comparisons.iter().find(|c| c.key == key))
            .and_then(|c| c.label.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// An ad in a sentence: its label, else its key as code (`` `instacart_shopper` ``).
    pub fn ad_in_prose(&self, key: &str) -> String {
        let (ad, _) = Design::split_key(key);
        match self.ad_label(ad) {
            Some(_) => self.ad(key),
            None => format!("`{key}`"),
        }
    }

    /// A comparison in a sentence or heading: its label, else its key as code.
    pub fn comparison_in_prose(&self, key: &str) -> String {
        let label = self.comparison(key);
        if label == key {
            format!("`{key}`")
        } else {
            label
        }
    }

    /// The label given to a group, if one was.
    pub fn custom_group(&self, group: &str) -> Option<&'a str> {
        self.experiment?
            .figures
            .groups
            .get(group)
            .map(String::as_str)
    }

    /// A group as prose: its label, else "women", "people aged 25-34", "Black people".
    pub fn group(&self, group: &str) -> String {
        self.custom_group(group)
            .map_or_else(|| crate::words::group_label(group), str::to_string)
    }

    /// A group as a legend entry: its label, else "women", "18-24", "Black".
    pub fn group_legend(&self, group: &str) -> String {
        self.custom_group(group)
            .map_or_else(|| crate::charts::legend_label(group), str::to_string)
    }
}

/// An experiment of two ads and a comparison, with `extra` TOML before its ads (for
/// unit tests).
#[cfg(test)]
pub(crate) fn test_experiment(extra: &str) -> Experiment {
    let toml = format!(
        r#"
name = "labels"
spend_cap = 10
[schedule]
duration_days = 1
[audience]
countries = ["US"]
{extra}
[[ads]]
key = "instacart_shopper"
label = "Instacart shopper"
headline = "h"
body = "b"
link = "https://example.org"
daily_budget = 1
[[ads]]
key = "dominos_driver"
headline = "h"
body = "b"
link = "https://example.org"
daily_budget = 1
[[comparisons]]
key = "drivers"
label = "Delivery drivers"
ads = ["instacart_shopper", "dominos_driver"]
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.toml");
    std::fs::write(&path, toml).unwrap();
    adskew_core::experiment::load::load_with_env(&path, Vec::new())
        .unwrap()
        .experiment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment() -> Experiment {
        test_experiment("[figures.groups]\nfemale = \"Women\"")
    }

    #[test]
    fn labels_replace_keys_and_keys_stay_where_none_is_given() {
        let e = experiment();
        let l = Labels::of(&e);
        assert_eq!(l.ad("instacart_shopper"), "Instacart shopper");
        assert_eq!(l.ad("instacart_shopper@B"), "Instacart shopper (B)");
        assert_eq!(l.ad("dominos_driver"), "dominos_driver");
        assert_eq!(l.ad_in_prose("dominos_driver"), "`dominos_driver`");
        assert_eq!(l.ad_in_prose("instacart_shopper"), "Instacart shopper");
        assert_eq!(l.comparison_in_prose("drivers"), "Delivery drivers");
        assert_eq!(l.comparison("drivers"), "Delivery drivers");
        assert_eq!(l.group("female"), "Women");
        assert_eq!(l.group("male"), "men");
        assert_eq!(l.group_legend("25-34"), "25-34");
    }

    #[test]
    fn report_label_flags_name_an_ad_a_comparison_or_a_group_and_nothing_else() {
        use adskew_core::experiment::figures::set_label;
        let mut e = test_experiment("");
        set_label(&mut e, "dominos_driver", "Domino's driver").unwrap();
        set_label(&mut e, "drivers", " Drivers ").unwrap();
        set_label(&mut e, "female", "Women").unwrap();
        let l = Labels::of(&e);
        assert_eq!(l.ad("dominos_driver"), "Domino's driver");
        assert_eq!(l.comparison("drivers"), "Drivers");
        assert_eq!(l.group("female"), "Women");
        let err = set_label(&mut e, "dominos", "x").unwrap_err();
        assert!(
            err.contains("dominos_driver") && err.contains("drivers"),
            "{err}"
        );
        assert!(
            !e.figures.groups.contains_key("dominos"),
            "nothing half-set"
        );
        assert!(set_label(&mut e, "female", "")
            .unwrap_err()
            .contains("empty"));
    }
}
