-- Full-text search over the posts visitors can see. A row exists exactly
-- while its post is live: the write that changes a post (or puts it live)
-- rewrites its row in the same transaction, so a search never finds a
-- draft, a scheduled post, or an old version of a live one.
-- Columns: the title, the tags (space-separated) and a plain-text form of
-- the Markdown body. Diacritics are kept, as PostgreSQL's `simple`
-- configuration keeps them, so plain words match alike on both databases.
CREATE VIRTUAL TABLE post_search USING fts5(
    title, tags, body,
    tokenize = 'unicode61 remove_diacritics 0'
);
-- A title match ranks above a tag match, and both above a body match.
INSERT INTO post_search (post_search, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0)');
-- Posts already live are indexed with their Markdown as it is; the next
-- edit of each stores its plain text.
INSERT INTO post_search (rowid, title, tags, body)
SELECT id, title,
       COALESCE((SELECT group_concat(tag, ' ') FROM post_tags WHERE post_id = posts.id), ''),
       body
FROM posts WHERE live = 1;
