//! The settled period of a look: the days whose numbers the platform no longer revises.
//!
//! A platform first reports a day's delivery as an estimate and revises it for a while
//! (Meta's breakdowns for up to 28 days; the simulator's over `sim.revision_days`). A
//! since-launch total always includes its freshest days, so every nightly look on it would
//! carry their unrevised noise, which is far larger than the sampling noise of thousands of
//! people: no test, fixed or sequential, keeps its level on such looks. Each look is
//! therefore computed from the since-launch totals of the settled period, from launch to
//! the last local day that ended at least the revision window before the collection
//! (`[schedule] recollect_after_days`, the same window the final re-collection waits for),
//! and is recorded as of the end of that day: a look trails its collection by the window.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};

use crate::records::StoredRow;

/// The settled period of a collection: from launch through `through`, final as of `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// The last local day of the period.
    pub through: NaiveDate,
    /// When the period ended (the end of `through`, or the collection itself when the
    /// window is zero): the time the look is recorded at.
    pub as_of: DateTime<Utc>,
    /// The collection itself: the time of a look that also reads the unsettled days
    /// (under a declared revision bound, [`super::revision`]).
    pub collected: DateTime<Utc>,
}

/// The settled period of a collection at `at` under a revision window `window`, in the
/// account's time zone `tz`. With no window the platform's numbers are taken as final as
/// read: the period runs through the collection's own day and ends at the collection.
pub fn settled_at(at: DateTime<Utc>, window: TimeDelta, tz: chrono_tz::Tz) -> Settled {
    if window <= TimeDelta::zero() {
        return Settled {
            through: at.with_timezone(&tz).date_naive(),
            as_of: at,
            collected: at,
        };
    }
    // A day is final once its end is a whole window old: the day before the local date of
    // `at - window` (its end is midnight of that date, at or before `at - window`).
    let cutoff = (at - window).with_timezone(&tz).date_naive();
    let through = cutoff.pred_opt().unwrap_or(cutoff);
    let midnight = cutoff.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Midnight skipped by a daylight-saving change: the first instant after it.
    let as_of = tz
        .from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(midnight + TimeDelta::hours(1)))
                .earliest()
        })
        .map_or(at - window, |t| t.with_timezone(&Utc));
    Settled {
        through,
        as_of,
        collected: at,
    }
}

/// Of one collection's since-launch totals, those of its settled period: per ad and value,
/// the total ending last on or before `through` (a collection stores its totals through
/// today and, when they differ, through the settled day). Sorted by ad and value.
pub fn settled_rows(rows: &[StoredRow], through: NaiveDate) -> Vec<StoredRow> {
    let mut best: BTreeMap<(&str, &str), &StoredRow> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.date_stop <= through) {
        let key = (r.ad_key.as_str(), r.value.as_str());
        match best.get(&key) {
            Some(seen) if seen.date_stop >= r.date_stop => {}
            _ => {
                best.insert(key, r);
            }
        }
    }
    best.into_values().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_look_trails_its_collection_by_the_window() {
        let s = settled_at(
            t("2026-01-10T12:00:00Z"),
            TimeDelta::days(3),
            chrono_tz::UTC,
        );
        // Jan 6 ended at Jan 7 00:00, 3.5 days before; Jan 7 ended only 2.5 days before.
        assert_eq!(s.through, day("2026-01-06"));
        assert_eq!(s.as_of, t("2026-01-07T00:00:00Z"));
        // Exactly a window after a day's end, that day is final.
        let s = settled_at(
            t("2026-01-10T00:00:00Z"),
            TimeDelta::days(3),
            chrono_tz::UTC,
        );
        assert_eq!(s.through, day("2026-01-06"));
    }

    #[test]
    fn days_are_the_accounts_local_days() {
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 03:00 UTC on Jan 10 is still Jan 9 in New York; minus 3 days: Jan 6 local.
        let s = settled_at(t("2026-01-10T03:00:00Z"), TimeDelta::days(3), tz);
        assert_eq!(s.through, day("2026-01-05"));
        assert_eq!(s.as_of, t("2026-01-06T05:00:00Z"));
    }

    #[test]
    fn no_window_takes_the_numbers_as_read() {
        let at = t("2026-01-10T12:00:00Z");
        let s = settled_at(at, TimeDelta::zero(), chrono_tz::UTC);
        assert_eq!((s.through, s.as_of), (day("2026-01-10"), at));
    }

    fn row(ad: &str, stop: &str, reach: u64) -> StoredRow {
        StoredRow {
            ad_key: ad.into(),
            period: crate::platform::Period::Total,
            date_start: day("2026-01-05"),
            date_stop: day(stop),
            breakdown: crate::vocab::Breakdown::Gender,
            value: "female".into(),
            reach,
            impressions: reach,
            clicks: 0,
            spend: crate::money::Money::ZERO,
        }
    }

    #[test]
    fn the_settled_total_is_the_latest_ending_by_the_settled_day() {
        let rows = [
            row("a", "2026-01-10", 900),
            row("a", "2026-01-07", 500),
            row("b", "2026-01-06", 400),
            row("c", "2026-01-09", 100),
        ];
        let got = settled_rows(&rows, day("2026-01-07"));
        let reach: Vec<(&str, u64)> = got.iter().map(|r| (r.ad_key.as_str(), r.reach)).collect();
        // a: its settled total; b stopped delivering on the 6th (its total is final);
        // c: nothing settled yet.
        assert_eq!(reach, [("a", 500), ("b", 400)]);
    }
}
