-- name: digest-candidates
-- The light columns of every paper (no abstract), scored once per (date) in memory; the abstract is
-- read only for the papers a digest actually shows (digest-papers-by-ids).
SELECT p.id, p.upvotes, p.published_on, p.first_listed_on, p.first_seen_at, COALESCE(s.lists, 0) AS lists
FROM papers p
LEFT JOIN (SELECT paper_id, COUNT(DISTINCT file) AS lists FROM paper_sources GROUP BY paper_id) s ON s.paper_id = p.id;

-- name: digest-paper-by-id
SELECT p.*, (SELECT COUNT(DISTINCT file) FROM paper_sources s WHERE s.paper_id = p.id) AS page_count
FROM papers p WHERE p.id = ?;

-- name: digest-topic-matches
-- Ids of papers whose title or abstract match an FTS5 query (the caller quotes user keywords into a phrase).
SELECT rowid AS id FROM search.papers_fts WHERE papers_fts MATCH ?;

-- name: digest-sent-paper-ids
-- One indexed read per subscriber (the sent_papers primary key starts with subscriber_id).
SELECT paper_id FROM sent_papers WHERE subscriber_id = ?;

-- name: digest-subscriber-by-email
-- Preview "as EMAIL": emails are stored normalised, but a person typing one may not match case.
SELECT id, email, status, frequency, kind, topics, digest_size, time_zone FROM subscribers WHERE email = ? COLLATE NOCASE
ORDER BY email = ? DESC LIMIT 1;

-- name: digest-paper-sources
SELECT file, line, position, listed_on FROM paper_sources WHERE paper_id = ? ORDER BY listed_on DESC, file, line;
