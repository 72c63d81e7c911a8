-- adskew store, migration 12: anytime-valid looks (issue 18). At every collection, per
-- comparison and breakdown, the e-value of skew across the comparison's ads and its
-- always-valid p-value over the looks so far, and for a two-ad comparison the confidence
-- sequence of the difference of its group's share (docs/sequential.md). Computed from the
-- since-launch counts of the collection's settled period (the days the platform no longer
-- revises), as of `as_of`; one row per collection, comparison and breakdown.
CREATE TABLE sequential_looks (
    collection_id   INTEGER NOT NULL REFERENCES collections(id),
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id),
    as_of           TEXT NOT NULL,              -- the end of the settled period (RFC 3339)
    comparison      TEXT NOT NULL,
    breakdown       TEXT NOT NULL,
    log_e           REAL NOT NULL,              -- ln of the e-value of skew across ads
    p_value         REAL NOT NULL,              -- always valid, over this and earlier looks
    pair_group      TEXT,                       -- two-ad comparisons: the group compared
    ad1             TEXT,
    ad2             TEXT,
    estimate        REAL,                       -- share(ad1) - share(ad2)
    lower           REAL,                       -- the confidence sequence at this look
    upper           REAL,
    PRIMARY KEY (collection_id, comparison, breakdown)
);
CREATE INDEX sequential_looks_run ON sequential_looks (experiment_id, collection_id);
