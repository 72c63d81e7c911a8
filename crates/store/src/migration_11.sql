-- adskew store, migration 11: the API archive's trace id column gets a platform-neutral
-- name (issue #14). Every platform's answer may carry a trace id for its support (Meta's
-- is `fbtrace_id`); the store keeps it as `trace_id`, like core's `Exchange::trace_id`.
ALTER TABLE api_calls RENAME COLUMN fbtrace_id TO trace_id;
