-- adskew store, migration 4: customer-list uploads (`adskew audience upload`).
-- Provenance without personal data: the file is identified by its SHA-256, never stored;
-- only counts and Meta's ids are kept. One row per upload, updated as it finishes.
-- (IF NOT EXISTS: databases made on the branch where this was migration 3 already have it.)
CREATE TABLE IF NOT EXISTS audience_uploads (
    id                   INTEGER PRIMARY KEY,
    platform             TEXT NOT NULL,             -- 'meta'
    account              TEXT NOT NULL,             -- act_...
    audience_id          TEXT NOT NULL,             -- the id for audience.custom_audience
    audience_name        TEXT NOT NULL,
    created_audience     INTEGER NOT NULL,          -- 1 if this upload created the audience
    file_sha256          TEXT NOT NULL,             -- SHA-256 of the CSV file's bytes
    schema               TEXT NOT NULL,             -- Meta's keys sent, e.g. EMAIL,PHONE,COUNTRY
    session_id           TEXT NOT NULL,
    rows_read            INTEGER NOT NULL,
    rows_skipped         INTEGER NOT NULL,          -- lines with no usable value, not sent
    batches              INTEGER NOT NULL,          -- requests Meta acknowledged
    batches_planned      INTEGER NOT NULL,
    num_received         INTEGER NOT NULL,          -- Meta's count, summed over batches
    num_invalid_entries  INTEGER NOT NULL,          -- Meta's count, summed over batches
    state                TEXT NOT NULL,             -- uploading, complete, failed
    error                TEXT,                      -- why a failed upload stopped
    adskew_version       TEXT NOT NULL,
    started_at           TEXT NOT NULL,
    ended_at             TEXT
);
CREATE INDEX IF NOT EXISTS audience_uploads_audience ON audience_uploads(audience_id);
