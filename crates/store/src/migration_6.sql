-- adskew store, migration 6: Ads Manager exports read by `adskew import`.
-- Each file is one snapshot, stored as one collection (its rows in `delivery`, period
-- 'total'); this table says where the collection came from. The file itself is kept,
-- gzip-compressed, for provenance: the age x gender cells of an export are stored in
-- `delivery` only as a gender and an age breakdown, and a reviewer may want the original.
CREATE TABLE imports (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    collection_id   INTEGER NOT NULL REFERENCES collections(id),
    path            TEXT NOT NULL,              -- the file as named on the command line
    file_sha256     TEXT NOT NULL,              -- SHA-256 of the file's bytes
    file_gz         BLOB NOT NULL,              -- the file, gzip-compressed
    snapshot_at     TEXT NOT NULL,              -- when the export was made (UTC), = the collection's platform_time
    snapshot_from   TEXT NOT NULL,              -- 'file name' or 'modification time'
    rows_read       INTEGER NOT NULL,           -- data lines read (a skipped totals line not counted)
    imported_at     TEXT NOT NULL,
    adskew_version  TEXT NOT NULL,
    UNIQUE (experiment_id, file_sha256)
);
