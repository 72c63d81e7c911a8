-- adskew store, migration 10: the file says it is adskew's (issue #15). `PRAGMA
-- application_id` "adsk" marks it (with the schema version in `user_version`), so adskew
-- refuses any other program's SQLite file instead of adding its tables to it; databases
-- made before this migration are recognised by their version and tables and marked here.
-- `schema_migrations` records the adskew that applied each migration from this one on, so
-- an older adskew can say which version a newer database needs.
PRAGMA application_id = 1633973099;
CREATE TABLE schema_migrations (
    version        INTEGER PRIMARY KEY,
    adskew_version TEXT NOT NULL,
    applied_at     TEXT NOT NULL
);
