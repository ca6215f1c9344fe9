-- Full-text search over the posts visitors can see. A row exists exactly
-- while its post is live: the write that changes a post (or puts it live)
-- rewrites its row in the same transaction, so a search never finds a
-- draft, a scheduled post, or an old version of a live one.
-- `body` is a plain-text form of the Markdown, for the snippets; `doc`
-- holds the words of the title (weight A), the tags (B) and the body (C),
-- split into words by folio itself and lowercased by the `simple`
-- configuration (no stemming, no stop words), as SQLite's FTS5 sees them.
CREATE TABLE post_search (
    post_id BIGINT   PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    body    TEXT     NOT NULL,
    doc     tsvector NOT NULL
);
CREATE INDEX post_search_doc ON post_search USING GIN (doc);
-- Posts already live are indexed with their Markdown as it is; the next
-- edit of each stores its plain text.
INSERT INTO post_search (post_id, body, doc)
SELECT p.id, p.body,
       setweight(to_tsvector('simple', p.title), 'A')
       || setweight(to_tsvector('simple',
            COALESCE((SELECT string_agg(tag, ' ') FROM post_tags t WHERE t.post_id = p.id), '')), 'B')
       || setweight(to_tsvector('simple', p.body), 'C')
FROM posts p WHERE p.live = 1;
