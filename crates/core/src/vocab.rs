//! The shared vocabulary of an audit: breakdowns, metrics, objectives, demographic groups.
//!
//! These words appear in experiment files, in the store and in reports, so each type has
//! exactly one spelling (`as_str`) and parses only that spelling (`parse`). They carry no
//! platform-specific meaning; the Meta adapter maps them to Graph API names.

#[macro_export]
#[doc(hidden)]
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as $crate::__serde::Deserialize>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    $crate::__serde::de::Error::custom(format!("unknown value `{text}`, expected one of: {}", $name::choices()))
                })
            }
        }

        impl $name {
            /// Every value, in canonical order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one spelling used in files, the store and reports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical spelling (case-insensitive).
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// The accepted spellings, for error hints.
            pub fn choices() -> String {
                $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// What a delivery row covers: one day, or the whole range (true unique reach).
    Period { Day => "day", Total => "total" }
);

vocabulary!(
    /// A dimension the platform splits delivery by.
    Breakdown { Gender => "gender", Age => "age", Region => "region", Race => "race" }
);

vocabulary!(
    /// A delivery count the platform reports.
    Metric { Reach => "reach", Impressions => "impressions", Clicks => "clicks", Spend => "spend" }
);

vocabulary!(
    /// What the platform optimises delivery for; identical across compared ads.
    Objective { Traffic => "traffic", Reach => "reach" }
);

vocabulary!(
    /// Where an ad may be shown. Without a choice the platform chooses per impression
    /// (Meta's automatic placements), which an audit should at least report: placements
    /// differ in who uses them.
    Placement {
        FacebookFeed => "facebook_feed",
        FacebookStories => "facebook_stories",
        FacebookReels => "facebook_reels",
        FacebookVideoFeeds => "facebook_video_feeds",
        FacebookMarketplace => "facebook_marketplace",
        FacebookRightColumn => "facebook_right_column",
        FacebookSearch => "facebook_search",
        InstagramFeed => "instagram_feed",
        InstagramStories => "instagram_stories",
        InstagramReels => "instagram_reels",
        InstagramExplore => "instagram_explore",
        MessengerInbox => "messenger_inbox",
        AudienceNetwork => "audience_network"
    }
);

vocabulary!(
    /// Special ad category (employment, housing and credit ads get restricted targeting).
    AdCategory { None => "none", Employment => "employment", Housing => "housing", Credit => "credit" }
);

vocabulary!(
    /// Gender as platforms report it, with "unknown" kept as its own value.
    Gender { Female => "female", Male => "male", Unknown => "unknown" }
);

/// The group a comparison is tested on and charted for when none is pre-registered: women,
/// the group the audits adskew reproduces report (Ali et al. 2019, Imana et al. 2021).
/// Analysis, charts and `plan` all take it from here.
pub const DEFAULT_GROUP: Gender = Gender::Female;

vocabulary!(
    /// The age buckets platforms report (Meta's, which the literature uses).
    AgeBucket {
        A18_24 => "18-24", A25_34 => "25-34", A35_44 => "35-44",
        A45_54 => "45-54", A55_64 => "55-64", A65Plus => "65+"
    }
);

impl AgeBucket {
    /// Lowest age in the bucket.
    pub fn min_age(self) -> u8 {
        match self {
            AgeBucket::A18_24 => 18,
            AgeBucket::A25_34 => 25,
            AgeBucket::A35_44 => 35,
            AgeBucket::A45_54 => 45,
            AgeBucket::A55_64 => 55,
            AgeBucket::A65Plus => 65,
        }
    }

    /// Highest age in the bucket (65+ is open-ended; platforms cap targeting at 65).
    pub fn max_age(self) -> u8 {
        match self {
            AgeBucket::A18_24 => 24,
            AgeBucket::A25_34 => 34,
            AgeBucket::A35_44 => 44,
            AgeBucket::A45_54 => 54,
            AgeBucket::A55_64 => 64,
            AgeBucket::A65Plus => 65,
        }
    }

    /// Buckets that overlap a targeted age range.
    pub fn overlapping(min: u8, max: u8) -> Vec<AgeBucket> {
        AgeBucket::ALL
            .iter()
            .copied()
            .filter(|b| b.max_age() >= min && b.min_age() <= max)
            .collect()
    }
}

vocabulary!(
    /// How binomial confidence intervals are computed.
    CiMethod { Wilson => "wilson", AgrestiCoull => "agresti-coull", ClopperPearson => "clopper-pearson", Wald => "wald" }
);

vocabulary!(
    /// Multiple-comparison correction across all tests of an experiment.
    Correction { None => "none", Bonferroni => "bonferroni", Holm => "holm", BenjaminiHochberg => "bh" }
);

vocabulary!(
    /// Which platform an experiment runs on.
    PlatformKind { Sim => "sim", Meta => "meta" }
);

/// The age a platform reports for people whose age it does not know (Meta's spelling).
/// Kept as its own group, and left out of the tests unless asked, like gender `unknown`.
pub const UNKNOWN_AGE: &str = "Unknown";

impl Breakdown {
    /// Race is never reported by a platform: adskew infers it from the region breakdown of
    /// a mirrored design. It cannot be collected.
    pub fn is_inferred(self) -> bool {
        self == Breakdown::Race
    }

    /// A group of this breakdown read from a file, in its one spelling: a [`Gender`], an
    /// [`AgeBucket`] or [`UNKNOWN_AGE`], any non-empty region name without control characters
    /// (it is shown in reports and on terminals). `None` for anything else (a
    /// typo such as `fmale`, an age range no platform reports such as `17-20`, a race,
    /// which is never read but inferred), so every reader of counts refuses the same
    /// groups; [`Breakdown::groups`] lists what it accepts.
    pub fn group(self, text: &str) -> Option<String> {
        let text = text.trim();
        match self {
            Breakdown::Gender => Gender::parse(text).map(|g| g.as_str().to_string()),
            Breakdown::Age if text.eq_ignore_ascii_case(UNKNOWN_AGE) => {
                Some(UNKNOWN_AGE.to_string())
            }
            Breakdown::Age => AgeBucket::parse(text).map(|a| a.as_str().to_string()),
            Breakdown::Region => {
                (!text.is_empty() && !text.chars().any(char::is_control)).then(|| text.to_string())
            }
            Breakdown::Race => None,
        }
    }

    /// The groups [`Breakdown::group`] accepts, for a message's fix.
    pub fn groups(self) -> String {
        match self {
            Breakdown::Gender => Gender::choices(),
            Breakdown::Age => format!("{}, {UNKNOWN_AGE}", AgeBucket::choices()),
            Breakdown::Region => "any region name without control characters".to_string(),
            Breakdown::Race => "none: race is inferred from regions, never read".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_canonical_spellings() {
        assert_eq!(Breakdown::parse("Gender"), Some(Breakdown::Gender));
        assert_eq!(Breakdown::parse("dma"), None);
        assert!(Breakdown::Race.is_inferred());
        assert_eq!(AgeBucket::parse("65+"), Some(AgeBucket::A65Plus));
        assert_eq!(Correction::parse("bh"), Some(Correction::BenjaminiHochberg));
    }

    #[test]
    fn groups_are_read_from_the_vocabulary() {
        assert_eq!(Breakdown::Gender.group("Female").as_deref(), Some("female"));
        assert_eq!(Breakdown::Gender.group("fmale"), None);
        assert_eq!(Breakdown::Age.group("17-20"), None);
        assert_eq!(Breakdown::Age.group("65+").as_deref(), Some("65+"));
        assert_eq!(Breakdown::Age.group("unknown").as_deref(), Some("Unknown"));
        assert_eq!(Breakdown::Region.group("Texas").as_deref(), Some("Texas"));
        assert_eq!(Breakdown::Region.group(" "), None);
        assert_eq!(Breakdown::Region.group("Te\x1b[2Jxas"), None);
        assert_eq!(Breakdown::Race.group("white"), None);
        assert!(Breakdown::Age.groups().ends_with("65+, Unknown"));
    }

    #[test]
    fn age_range_selects_overlapping_buckets() {
        assert_eq!(AgeBucket::overlapping(18, 65).len(), 6);
        assert_eq!(
            AgeBucket::overlapping(25, 40),
            vec![AgeBucket::A25_34, AgeBucket::A35_44]
        );
    }
}
