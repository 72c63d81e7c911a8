-- adskew store, migration 2: the ADSKEW_* environment overrides a run was started with,
-- one `KEY=value` per line (provenance: the resolved experiment already includes them).
ALTER TABLE experiments ADD COLUMN overrides TEXT NOT NULL DEFAULT '';
