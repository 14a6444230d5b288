-- name: get-paper-by-key
-- The merge looks a paper up by its normalised title.
SELECT * FROM papers WHERE title_key = ?;

-- name: insert-paper
-- Positional parameters (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links,
-- first_seen_at, updated_at): bulk ingest binds 100,000s of rows without building an object for each.
INSERT INTO papers (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links, first_seen_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update-paper
UPDATE papers SET abstract = @abstract, authors = @authors, published_on = @published_on, upvotes = @upvotes,
  first_listed_on = @first_listed_on, links = @links, updated_at = @now
WHERE id = @id;

-- name: insert-source
-- Ignored when the same page line was ingested before: that is what makes ingest idempotent.
INSERT OR IGNORE INTO paper_sources (paper_id, file, line, position, listed_on) VALUES (?, ?, ?, ?, ?);

-- name: get-paper
SELECT p.*, (SELECT COUNT(DISTINCT file) FROM paper_sources s WHERE s.paper_id = p.id) AS page_count
FROM papers p WHERE p.id = ?;

-- name: list-papers
-- Newest first; the CLI and the admin pages page through it.
SELECT p.*, (SELECT COUNT(DISTINCT file) FROM paper_sources s WHERE s.paper_id = p.id) AS page_count
FROM papers p
ORDER BY COALESCE(p.published_on, p.first_listed_on, substr(p.first_seen_at, 1, 10)) DESC, p.id DESC
LIMIT ?;

-- name: search-papers
-- FTS5 match over title and abstract, best match first (the index is in the search file, db/search-index.ts).
SELECT p.*, (SELECT COUNT(DISTINCT file) FROM paper_sources s WHERE s.paper_id = p.id) AS page_count
FROM search.papers_fts f JOIN papers p ON p.id = f.rowid
WHERE papers_fts MATCH ?
ORDER BY bm25(papers_fts, 5.0, 1.0), p.id
LIMIT ?;

-- name: list-sources
SELECT file, line, position, listed_on FROM paper_sources WHERE paper_id = ? ORDER BY file, line;

-- name: count-papers
SELECT COUNT(*) AS n FROM papers;

-- name: count-sources
SELECT COUNT(*) AS n FROM paper_sources;

-- name: max-paper-id
SELECT COALESCE(MAX(id), 0) AS n FROM papers;

-- name: all-paper-keys
-- Ingest loads every key once so a new paper costs no lookup.
SELECT id, title_key FROM papers;
