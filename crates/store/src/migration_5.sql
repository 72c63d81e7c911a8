-- adskew store, migration 5: durable, resumable runs (issue #5).
-- A run's plan, fixed when it is recorded, so a later process can resume it.
ALTER TABLE experiments ADD COLUMN planned_start TEXT;
ALTER TABLE experiments ADD COLUMN planned_end TEXT;
-- The final re-collection after the platform's revision window, once the run has ended.
ALTER TABLE experiments ADD COLUMN recollect_at TEXT;
-- The scheduled time a collection pass served (NULL for passes before migration 5).
ALTER TABLE collections ADD COLUMN due_at TEXT;

-- Every platform object of a run, written *before* its create call (platform_id NULL) and
-- completed after. The name is the idempotency key: unique per run and embedded in the
-- object's name on the platform, so after a crash between the two writes the object is
-- found by name instead of being created again.
CREATE TABLE platform_objects (
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id),
    role           TEXT NOT NULL,              -- campaign, ad_set, creative, ad
    ad_key         TEXT NOT NULL,              -- '' for the campaign
    name           TEXT NOT NULL,
    platform_id    TEXT,
    requested_at   TEXT NOT NULL,
    created_at     TEXT,
    PRIMARY KEY (experiment_id, role, ad_key)
);
