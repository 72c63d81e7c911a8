//! The SQLite store as a researcher's file: round trips, append-only snapshots, the latest
//! view, and reopening.

use std::path::Path;

use adskew::experiment::load::load_with_env;
use adskew::money::Money;
use adskew::store::{AdRecord, RunState, Store, StoredRow};
use adskew::vocab::Breakdown;
use chrono::{NaiveDate, TimeZone, Utc};

fn experiment() -> adskew::experiment::Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/imana2021_paired_jobs.toml");
    load_with_env(&path, Vec::new()).unwrap().experiment
}

fn row(ad: &str, value: &str, reach: u64, stop: u32) -> StoredRow {
    StoredRow {
        ad_key: ad.to_string(),
        period: adskew::vocab::Period::Total,
        date_start: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        date_stop: NaiveDate::from_ymd_opt(2026, 3, stop).unwrap(),
        breakdown: adskew::vocab::Breakdown::Gender,
        value: value.to_string(),
        reach,
        impressions: reach * 2,
        clicks: reach / 100,
        spend: Money(reach as i64),
    }
}

#[test]
fn experiment_and_ads_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nested/dir/a.db");
    let exp = experiment();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let id = {
        let mut store = Store::open(&path).unwrap();
        let id = store.insert_experiment(&exp, t0).unwrap();
        store
            .record_ad(
                id,
                &AdRecord {
                    ad_key: "dominos_driver".into(),
                    campaign_id: "c1".into(),
                    ad_set_id: "s1".into(),
                    creative_id: "cr1".into(),
                    platform_ad_id: "a1".into(),
                    budget_kind: "daily".into(),
                    budget: Money(2500),
                    activated_at: None,
                },
            )
            .unwrap();
        store.set_activated(id, t0).unwrap();
        store.set_state(id, RunState::Running, "test", t0).unwrap();
        id
    };
    // Reopen: the file is the truth, and migrations do not run twice.
    let store = Store::open(&path).unwrap();
    let rec = store.find_experiment("imana2021-paired-jobs").unwrap();
    assert_eq!(rec.id, id);
    assert_eq!(rec.state.as_str(), "running");
    assert_eq!(rec.file_sha256, exp.source.sha256);
    assert_eq!(rec.spend_cap, Money(60_000));
    assert_eq!(
        store.find_experiment(&id.to_string()).unwrap().name,
        rec.name
    );
    // The stored experiment reads back into the same validated experiment.
    let back = rec.experiment().unwrap();
    assert_eq!(back.resolved_json(), exp.resolved_json());
    let ads = store.ads(id).unwrap();
    assert_eq!(ads.len(), 1);
    assert_eq!(ads[0].budget, Money(2500));
    assert_eq!(ads[0].activated_at.as_deref(), Some("2026-03-02T00:00:00Z"));
    assert!(store.find_experiment("nope").is_err());
}

#[test]
fn snapshots_are_append_only_and_latest_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("a.db")).unwrap();
    let id = store.insert_experiment(&experiment(), Utc::now()).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    store
        .insert_collection(
            id,
            t,
            Money(100),
            &[row("a", "female", 10, 2), row("a", "male", 20, 2)],
        )
        .unwrap();
    // Day 2 is revised (the platform's late revisions), and day 3 arrives.
    store
        .insert_collection(
            id,
            t,
            Money(200),
            &[row("a", "female", 12, 2), row("a", "male", 20, 2)],
        )
        .unwrap();
    store
        .insert_collection(
            id,
            t,
            Money(300),
            &[row("a", "female", 30, 3), row("a", "male", 40, 3)],
        )
        .unwrap();

    assert_eq!(
        store.all_rows(id).unwrap().len(),
        6,
        "nothing is overwritten"
    );
    assert_eq!(store.collections(id).unwrap().len(), 3);
    assert_eq!(store.collections(id).unwrap()[2].spend, Money(300));
    let totals = store.latest_totals(id, Breakdown::Gender).unwrap();
    assert_eq!(
        totals,
        vec![row("a", "female", 30, 3), row("a", "male", 40, 3)],
        "latest total ending on the last day"
    );

    // The view is usable straight from SQL, as pandas/R/DuckDB users will.
    let conn = rusqlite::Connection::open(tmp.path().join("a.db")).unwrap();
    let reach: i64 = conn
        .query_row(
            "SELECT reach FROM delivery_latest WHERE ad_key='a' AND value='female' AND date_stop='2026-03-02'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        reach, 12,
        "the revision replaced the first snapshot in the latest view"
    );
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    // schema.sql plus one migration_N.sql per later version.
    let migrations =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/store/src"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("sql".as_ref()))
            .count() as i64;
    assert_eq!(version, migrations, "every migration ran once");
}

/// Two totals that end on the same day but start on different days (imported exports with
/// other reporting windows) are two views of one ad: only the newest counts, never both.
#[test]
fn of_two_windows_ending_the_same_day_the_newest_is_the_total() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("a.db")).unwrap();
    let id = store.insert_experiment(&experiment(), Utc::now()).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap();
    let later_start = |mut r: StoredRow| {
        r.date_start = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        r
    };
    store
        .insert_collection(
            id,
            t,
            Money(1),
            &[row("a", "female", 10, 4), row("b", "male", 7, 4)],
        )
        .unwrap();
    store
        .insert_collection(
            id,
            t,
            Money(2),
            &[
                later_start(row("a", "female", 5, 4)),
                later_start(row("a", "male", 6, 4)),
            ],
        )
        .unwrap();
    let totals = store.latest_totals(id, Breakdown::Gender).unwrap();
    assert_eq!(
        totals,
        vec![
            later_start(row("a", "female", 5, 4)),
            later_start(row("a", "male", 6, 4)),
            row("b", "male", 7, 4),
        ]
    );
}

/// A state no adskew version writes (a hand edit, a newer version's) is an error that names
/// it, never read as some other state: a run taken for `failed` would not be collected or
/// paused.
#[test]
fn a_state_this_version_does_not_know_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path).unwrap();
    let exp = experiment();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    store.insert_experiment(&exp, now).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE experiments SET state = 'archived'", [])
        .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let err = store
        .find_experiment("imana2021-paired-jobs")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`archived`"), "{err}");
}

/// A failed collection is on record by its kind, whatever the words of its cause, so
/// `status` shows it; a note is not taken for one.
#[test]
fn a_failed_collection_is_recorded_by_its_kind() {
    use adskew::store::EventKind;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.db")).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let id = store.insert_experiment(&experiment(), now).unwrap();
    store
        .note(id, "collection failed, says a note", now)
        .unwrap();
    store
        .note_failed_collection(id, "token expired", now)
        .unwrap();
    let kinds: Vec<EventKind> = store.events(id).unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::State,
            EventKind::Note,
            EventKind::CollectionFailed
        ]
    );
    let last = store.events(id).unwrap().pop().unwrap();
    assert!(last.cause.contains("token expired"), "{}", last.cause);
}

/// A count that does not fit SQLite's integers is refused when written, never stored as a
/// negative number; a negative count found in a database (another program's, or damaged)
/// is refused when read, naming the column, instead of wrapping to ~1.8·10^19.
#[test]
fn counts_beyond_sqlite_integers_are_refused_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path).unwrap();
    let id = store.insert_experiment(&experiment(), Utc::now()).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    let mut huge = row("a", "female", 10, 2);
    huge.reach = u64::MAX;
    assert!(store.insert_collection(id, t, Money(1), &[huge]).is_err());
    assert!(
        store.all_rows(id).unwrap().is_empty(),
        "nothing half written"
    );

    store
        .insert_collection(id, t, Money(1), &[row("a", "female", 10, 2)])
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE delivery SET reach = -1", []).unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let err = store
        .latest_totals(id, Breakdown::Gender)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("reach -1 is negative") && err.contains("restore it from a backup"),
        "{err}"
    );
}

/// The totals are read ad by ad and value by value (a million-row run answered in
/// milliseconds, issue 16); what they are stays what the `delivery_latest` view defines:
/// per ad, the newest snapshot of each value in the window ending on the last day and, of
/// windows ending then, the one collected last. Checked against that definition in SQL
/// over collections that mix daily rows, breakdowns, re-collected days, a revised window
/// and an ad that stopped early; and the history comes in collection, ad, value order.
#[test]
fn totals_read_ad_by_ad_equal_the_latest_view_and_history_is_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.db");
    let mut store = Store::open(&path).unwrap();
    let id = store.insert_experiment(&experiment(), Utc::now()).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap();
    let day = |mut r: StoredRow| {
        r.period = adskew::vocab::Period::Day;
        r.date_start = r.date_stop;
        r
    };
    let age = |mut r: StoredRow| {
        r.breakdown = Breakdown::Age;
        r
    };
    let from_5th = |mut r: StoredRow| {
        r.date_start = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        r
    };
    for stop in 3..=6u32 {
        let n = u64::from(stop) * 10;
        let mut rows = Vec::new();
        for ad in ["b", "a", "c"] {
            if ad == "c" && stop > 4 {
                continue; // c stopped early: its last total ends on the 4th
            }
            for value in ["male", "female", "unknown"] {
                rows.push(row(ad, value, n, stop));
                rows.push(day(row(ad, value, n / 2, stop)));
                rows.push(age(row(ad, "25-34", n + 1, stop)));
            }
        }
        if stop == 6 {
            // The same day re-collected in another window, the newest: it wins for b.
            rows.push(from_5th(row("b", "female", 7, 6)));
        }
        store.insert_collection(id, t, Money(1), &rows).unwrap();
    }
    // b's day-6 total collected once more in the first window: that window is now the
    // newest, so b is read in it again (male from this collection, female from before).
    store
        .insert_collection(id, t, Money(1), &[row("b", "male", 99, 6)])
        .unwrap();

    let conn = rusqlite::Connection::open(&path).unwrap();
    let view = |breakdown: &str| -> Vec<(String, String, String, u64)> {
        let mut stmt = conn
            .prepare(
                "SELECT ad_key, value, date_start, reach FROM delivery_latest l
                 WHERE experiment_id = ?1 AND breakdown = ?2 AND period = 'total'
                   AND date_stop = (SELECT MAX(date_stop) FROM delivery_latest m
                        WHERE m.experiment_id = l.experiment_id AND m.ad_key = l.ad_key
                          AND m.breakdown = l.breakdown AND m.period = 'total')
                   AND date_start = (SELECT m.date_start FROM delivery_latest m
                        WHERE m.experiment_id = l.experiment_id AND m.ad_key = l.ad_key
                          AND m.breakdown = l.breakdown AND m.period = 'total'
                          AND m.date_stop = l.date_stop
                        ORDER BY m.collection_id DESC LIMIT 1)
                 ORDER BY ad_key, value",
            )
            .unwrap();
        stmt.query_map(rusqlite::params![id, breakdown], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u64))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    for breakdown in [Breakdown::Gender, Breakdown::Age] {
        let read: Vec<_> = store
            .latest_totals(id, breakdown)
            .unwrap()
            .into_iter()
            .map(|r| (r.ad_key, r.value, r.date_start.to_string(), r.reach))
            .collect();
        assert_eq!(read, view(breakdown.as_str()), "{breakdown}");
    }
    let gender = store.latest_totals(id, Breakdown::Gender).unwrap();
    assert!(gender.iter().any(|r| r.ad_key == "b" && r.reach == 99));
    assert!(gender.iter().any(|r| r.ad_key == "c" && r.reach == 40));

    let history = store.total_history(id, Breakdown::Gender).unwrap();
    assert_eq!(history.len(), 3 * 3 * 2 + 2 * 3 * 2 + 1 + 1);
    let keys: Vec<_> = history
        .iter()
        .map(|(c, r)| (*c, r.ad_key.clone(), r.value.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        history
            .iter()
            .all(|(_, r)| r.period == adskew::vocab::Period::Total
                && r.breakdown == Breakdown::Gender)
    );
    // The report's one read gives both, the same as each read alone.
    for breakdown in [Breakdown::Gender, Breakdown::Age] {
        let both = store.totals(id, breakdown).unwrap();
        assert_eq!(both.latest, store.latest_totals(id, breakdown).unwrap());
        assert_eq!(both.history, store.total_history(id, breakdown).unwrap());
    }
}

/// A simulator run commits without syncing (`Durability::RunEnd`) and `run` calls
/// `Store::sync` when it ends: after that every commit is in the database file itself, not
/// only in the write-ahead log a power cut could take, so a copy of the file without its
/// log reads the whole run.
#[test]
fn after_sync_the_database_file_alone_holds_every_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("a.db");
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    let mut store = Store::open(&path).unwrap();
    store
        .set_durability(adskew::store::Durability::RunEnd)
        .unwrap();
    let id = store.insert_experiment(&experiment(), t0).unwrap();
    for day in 3..6 {
        let rows = [row("dominos_driver", "female", 100 * u64::from(day), day)];
        store.insert_collection(id, t0, Money(10), &rows).unwrap();
    }
    let unsynced = tmp.path().join("unsynced.db");
    std::fs::copy(&path, &unsynced).unwrap();
    store.sync().unwrap();
    let synced = tmp.path().join("synced.db");
    std::fs::copy(&path, &synced).unwrap();
    let collections = |file: &Path| -> i64 {
        let conn = rusqlite::Connection::open(file).unwrap();
        conn.query_row("SELECT count(*) FROM collections", [], |r| r.get(0))
            .unwrap_or(0)
    };
    // Before the sync the commits were in the log only (the test would pass on a store
    // that synced nothing to the file otherwise).
    assert_eq!(collections(&unsynced), 0);
    assert_eq!(collections(&synced), 3);
    drop(store);
}
