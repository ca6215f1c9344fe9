-- Uploaded pictures, content-addressed: `hash` is the SHA-256 of the bytes
-- as uploaded, so the same file uploaded twice is one row. The bytes served
-- are in media_variants: the picture upright and stripped of metadata
-- (`width` its width), and its resized copies; every instance serves them
-- from here and a database backup holds them.
CREATE TABLE media (
    id         BIGSERIAL PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    format     TEXT    NOT NULL,
    width      BIGINT  NOT NULL,
    height     BIGINT  NOT NULL,
    bytes      BIGINT  NOT NULL,
    alt        TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);

CREATE TABLE media_variants (
    name         TEXT    PRIMARY KEY,
    media_id     BIGINT  NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    width        BIGINT  NOT NULL,
    height       BIGINT  NOT NULL,
    content_type TEXT    NOT NULL,
    data         BYTEA   NOT NULL
);
CREATE INDEX media_variants_media ON media_variants (media_id, width);

-- Which posts show which upload, kept by every post save (from the /media/
-- URLs in its Markdown): the posts an alt change re-renders, and what makes
-- a delete 409.
CREATE TABLE media_usage (
    post_id  BIGINT  NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    media_id BIGINT  NOT NULL REFERENCES media (id),
    PRIMARY KEY (post_id, media_id)
);
CREATE INDEX media_usage_media ON media_usage (media_id);
