-- Timestamps are unix seconds; flags are 0/1 integers so one set of queries
-- runs unchanged on SQLite and PostgreSQL.
CREATE TABLE posts (
    id           BIGSERIAL PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    body_html    TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    published    BIGINT  NOT NULL DEFAULT 0,
    published_at BIGINT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX posts_listing ON posts (published, published_at DESC, id DESC);

CREATE TABLE admins (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    state      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Invalidations committed with the write that caused them; a row lives until
-- Redis has confirmed them, so no instance trusts the cache while one is pending.
CREATE TABLE cache_outbox (
    id         BIGSERIAL PRIMARY KEY,
    paths      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- A single row every write updates first: it serialises writers on both
-- databases, so the pages a write computes as stale are computed on a stable list.
CREATE TABLE write_lock (
    id  BIGINT  PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);
INSERT INTO write_lock (id, seq) VALUES (1, 0);
