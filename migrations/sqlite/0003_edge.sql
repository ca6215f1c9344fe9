-- Purges of HTTP caches in front of folio (FOLIO_EDGE_PURGE), recorded in
-- the transaction of the write that needs them and sent until the endpoint
-- confirms: one row per endpoint and moment (each write purges twice, see
-- cache::edge).
CREATE TABLE edge_purges (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT    NOT NULL,
    xkeys    TEXT    NOT NULL,
    due_at   INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX edge_purges_due ON edge_purges (due_at);
