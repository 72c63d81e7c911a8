-- adskew store, migration 1. Documented for researchers in ARCHITECTURE.md ("The store").
-- Amounts of money are integers in the currency's minor unit (cents); times are RFC 3339 UTC;
-- dates are ISO 8601 (YYYY-MM-DD).

-- One row per run of an experiment file.
CREATE TABLE experiments (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    platform         TEXT NOT NULL,             -- 'sim' or 'meta'
    currency         TEXT NOT NULL,
    spend_cap_minor  INTEGER NOT NULL,
    file_path        TEXT NOT NULL,
    file_text        TEXT NOT NULL,             -- the experiment file exactly as read
    file_sha256      TEXT NOT NULL,
    resolved_json    TEXT NOT NULL,             -- the validated experiment, overrides applied
    resolved_sha256  TEXT NOT NULL,
    adskew_version   TEXT NOT NULL,
    state            TEXT NOT NULL,             -- created, running, completed, stopped, failed
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    ended_at         TEXT
);
CREATE INDEX experiments_name ON experiments(name);

-- Every state change, with its cause.
CREATE TABLE experiment_events (
    id             INTEGER PRIMARY KEY,
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id),
    at             TEXT NOT NULL,
    state          TEXT NOT NULL,
    cause          TEXT NOT NULL
);

-- The platform objects behind each ad of an experiment.
CREATE TABLE ads (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    ad_key          TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    ad_set_id       TEXT NOT NULL,
    creative_id     TEXT NOT NULL,
    platform_ad_id  TEXT NOT NULL,
    budget_kind     TEXT NOT NULL,              -- 'daily' or 'lifetime'
    budget_minor    INTEGER NOT NULL,
    activated_at    TEXT,
    PRIMARY KEY (experiment_id, ad_key)
);

-- One row per pass of collection.
CREATE TABLE collections (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    platform_time   TEXT NOT NULL,              -- the platform's clock when collected
    collected_at    TEXT NOT NULL,              -- the machine's clock
    spend_minor     INTEGER NOT NULL,           -- campaign spend read at this collection
    rows            INTEGER NOT NULL
);

-- Append-only snapshots: a value collected again later is a new row, never an update.
CREATE TABLE delivery (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    collection_id   INTEGER NOT NULL REFERENCES collections(id),
    ad_key          TEXT NOT NULL,
    period          TEXT NOT NULL,              -- 'day' (one date) or 'total' (since launch)
    date_start      TEXT NOT NULL,
    date_stop       TEXT NOT NULL,
    breakdown       TEXT NOT NULL,              -- 'gender', 'age', 'region'
    value           TEXT NOT NULL,              -- 'female', '25-34', a region name, ...
    reach           INTEGER NOT NULL,
    impressions     INTEGER NOT NULL,
    clicks          INTEGER NOT NULL,
    spend_minor     INTEGER NOT NULL
);
CREATE INDEX delivery_key ON delivery(experiment_id, ad_key, breakdown, value, period, date_start, date_stop, collection_id);

-- The latest snapshot of every (experiment, ad, period, dates, breakdown, value).
CREATE VIEW delivery_latest AS
SELECT id, experiment_id, collection_id, ad_key, period, date_start, date_stop, breakdown, value,
       reach, impressions, clicks, spend_minor
FROM (
    SELECT d.*, ROW_NUMBER() OVER (
        PARTITION BY experiment_id, ad_key, period, date_start, date_stop, breakdown, value
        ORDER BY collection_id DESC) AS rn
    FROM delivery d
)
WHERE rn = 1;
