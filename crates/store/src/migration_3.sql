-- adskew store, migration 3: an archive of every request to a real platform API and its
-- answer (provenance: a reviewer can see exactly what Meta was asked and what it said).
-- The access token and app secret proof are redacted before anything is written; bodies are
-- gzip-compressed and their SHA-256 (of the uncompressed bytes) kept for integrity checks.
CREATE TABLE api_calls (
    id               INTEGER PRIMARY KEY,
    experiment_id    INTEGER REFERENCES experiments(id),   -- NULL outside an experiment run
    platform         TEXT NOT NULL,
    at               TEXT NOT NULL,              -- the machine's clock when the request left
    elapsed_ms       INTEGER NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,              -- credentials redacted
    request_gz       BLOB NOT NULL,              -- gzip of the parameters as JSON, redacted
    request_sha256   TEXT NOT NULL,
    status           INTEGER NOT NULL,           -- HTTP status; 0 when no response arrived
    fbtrace_id       TEXT,                       -- Meta's trace id, for support requests
    response_gz      BLOB NOT NULL,              -- gzip of the response body as received
    response_sha256  TEXT NOT NULL,
    response_bytes   INTEGER NOT NULL,
    error            TEXT                        -- transport error, when there was no response
);
CREATE INDEX api_calls_experiment ON api_calls(experiment_id, id);

-- How the platform saw each ad, appended whenever it changed: Meta's effective_status and
-- the review feedback or delivery issue, so a rejected ad is reported, not silently missing.
CREATE TABLE ad_reviews (
    id                INTEGER PRIMARY KEY,
    experiment_id     INTEGER NOT NULL REFERENCES experiments(id),
    ad_key            TEXT NOT NULL,
    at                TEXT NOT NULL,              -- the platform's clock
    effective_status  TEXT NOT NULL,
    problem           TEXT                        -- the platform's words, when it found one
);
CREATE INDEX ad_reviews_key ON ad_reviews(experiment_id, ad_key, id);
