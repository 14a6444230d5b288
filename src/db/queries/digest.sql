-- name: digest-candidates
-- The light columns of every paper (no abstract), scored once per (date) in memory; the abstract is
-- read only for the papers a digest actually shows (digest-papers-by-ids).
-- A list is a listing day: a seed page and the API's listing of the same day count once (a page without a date by
-- its file).
SELECT p.id, p.upvotes, p.published_on, p.first_listed_on, p.first_seen_at, COALESCE(s.lists, 0) AS lists
FROM papers p
LEFT JOIN (SELECT paper_id, COUNT(DISTINCT COALESCE(listed_on, file)) AS lists FROM paper_sources GROUP BY paper_id) s ON s.paper_id = p.id;

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

-- name: digest-upvote-windows
-- Per paper with snapshots by @t: its first count, and the last count at or before @t, a day and a week before it
-- (NULL when no snapshot is that old). Index seeks on the (paper_id, taken_at) primary key (upvote-gains.ts).
SELECT s.paper_id AS id, p.first_listed_on, p.published_on, s.first_at,
  (SELECT x.upvotes FROM upvote_snapshots x WHERE x.paper_id = s.paper_id ORDER BY x.taken_at LIMIT 1) AS first_v,
  (SELECT x.upvotes FROM upvote_snapshots x WHERE x.paper_id = s.paper_id AND x.taken_at <= @t ORDER BY x.taken_at DESC LIMIT 1) AS now_v,
  (SELECT x.upvotes FROM upvote_snapshots x WHERE x.paper_id = s.paper_id AND x.taken_at <= @day ORDER BY x.taken_at DESC LIMIT 1) AS day_v,
  (SELECT x.upvotes FROM upvote_snapshots x WHERE x.paper_id = s.paper_id AND x.taken_at <= @week ORDER BY x.taken_at DESC LIMIT 1) AS week_v
FROM (SELECT paper_id, MIN(taken_at) AS first_at FROM upvote_snapshots GROUP BY paper_id) s
JOIN papers p ON p.id = s.paper_id
WHERE s.first_at <= @t;

-- name: archive-edition-days
-- The days the public archive lists as editions: the days a listing of papers came out, up to @today (the route adds
-- today). A paper's arXiv date is not one: it goes back years and most of those days no listing carried it.
SELECT DISTINCT first_listed_on AS day FROM papers
WHERE first_listed_on IS NOT NULL AND first_listed_on <= @today AND first_listed_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
ORDER BY day DESC;

-- name: mjml-compiled-get
SELECT html, errors FROM mjml_compiled WHERE key = ?;

-- name: mjml-compiled-put
INSERT OR REPLACE INTO mjml_compiled (key, html, errors, created_at) VALUES (@key, @html, @errors, @created_at);

-- name: mjml-compiled-prune
-- The newest @keep compiles stay: a few wrappers an edition, a few previews; older editions are not sent again.
DELETE FROM mjml_compiled WHERE key NOT IN (SELECT key FROM mjml_compiled ORDER BY created_at DESC, key LIMIT @keep);
