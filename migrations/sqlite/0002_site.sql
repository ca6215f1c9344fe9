-- Scheduled posts, previews, tags, and a richer outbox.
-- `live` is what visitors see: set by a write or by the go-live of a
-- scheduled post, never by the clock alone, so every change of what is
-- public goes through the outbox.
ALTER TABLE posts ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN preview_token TEXT;
UPDATE posts SET live = published;
UPDATE posts SET preview_token = lower(hex(randomblob(16))) || id WHERE preview_token IS NULL;
CREATE UNIQUE INDEX posts_preview_token ON posts (preview_token);
CREATE INDEX posts_live ON posts (live, published_at DESC, id DESC);
CREATE INDEX posts_due ON posts (published, live, published_at);

CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag     TEXT    NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_tag ON post_tags (tag, post_id);

-- The write's sequence number (write_lock.seq), so Redis can be told how far
-- it has got; what caused it, for the invalidation log; whether it changed
-- every page (a settings change); and the pages it made stale, one a line.
ALTER TABLE cache_outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cache_outbox ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE cache_outbox ADD COLUMN everything INTEGER NOT NULL DEFAULT 0;
