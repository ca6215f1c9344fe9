-- The deployment's one clock is the database's: `unixepoch()`, built into
-- SQLite since 3.38 (PostgreSQL gets a function of that name in its own
-- 0007). This fails the migration on an SQLite too old to have it.
SELECT unixepoch();
