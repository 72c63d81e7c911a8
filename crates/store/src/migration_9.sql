-- adskew store, migration 9: what kind of event a run's event is (issue #14), so that
-- `status` finds a failed collection by its kind instead of by the words of its cause.
-- 'state': the run moved to `state`; 'note': something happened in that state;
-- 'collection_failed': a collection pass failed (the cause says why). Earlier rows are
-- state changes, but for failed collections, whose cause began "collection failed".
ALTER TABLE experiment_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'state';
UPDATE experiment_events SET kind = 'collection_failed' WHERE cause LIKE 'collection failed%';
