-- The deployment's one clock: whether a scheduled post is due, and whether a
-- publish time is in the past, are decided by the database's time, not by
-- each instance's wall clock. SQLite has `unixepoch()` built in (3.38+);
-- this gives PostgreSQL the same name, so one set of queries runs on both.
-- clock_timestamp(), not now(): a write may wait for its turn well after
-- its transaction began.
CREATE OR REPLACE FUNCTION unixepoch() RETURNS BIGINT
    LANGUAGE SQL VOLATILE
    AS $$ SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp())) AS BIGINT) $$;
