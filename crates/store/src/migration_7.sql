-- adskew store, migration 7: pauses owed (issue #13, "always stoppable").
-- A row says every platform object of a run must be paused, and stays open until that is
-- confirmed and the run's state records it. `adskew stop` writes it *before* it pauses, and
-- may do so while another adskew holds the lock (the row is all it adds to the run), so
-- the lock holder and every later pass honour a stop they did not make. A run that failed
-- after activation and could not pause its ads writes one too, and every later `collect`
-- or `daemon` pass retries the pause first.
CREATE TABLE pause_requests (
    id             INTEGER PRIMARY KEY,
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id),
    kind           TEXT NOT NULL,              -- 'stop' (the kill switch) or 'failure' (a failed run's pause failed)
    cause          TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    paused_at      TEXT,                       -- every recorded object of the run confirmed paused
    error          TEXT,                       -- why the last attempt to pause failed, until one succeeds
    done_at        TEXT                        -- the run's state records it (written under the lock)
);
CREATE INDEX pause_requests_open ON pause_requests(experiment_id, done_at);
