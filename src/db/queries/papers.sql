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
  first_listed_on = @first_listed_on, links = @links, arxiv_id = @arxiv_id, author_names = @author_names,
  tldr = @tldr, organization = @organization, comments = @comments, updated_at = @now
WHERE id = @id;

-- name: get-paper-by-arxiv-id
-- A fetched paper is looked up by its arXiv id (without version) first, then by its title key.
SELECT * FROM papers WHERE arxiv_id = ?;

-- name: insert-fetched-paper
-- A paper an API answer brought that the store did not have (fetch.ts); positional like insert-paper.
INSERT INTO papers (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links, first_seen_at, updated_at,
  arxiv_id, author_names, tldr, organization, comments)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: all-arxiv-ids
-- A fetch loads the stored ids once, as ingest loads the keys: most of an answer is usually new or already known.
SELECT id, arxiv_id FROM papers WHERE arxiv_id IS NOT NULL;

-- name: latest-snapshot
SELECT upvotes FROM upvote_snapshots WHERE paper_id = ? ORDER BY taken_at DESC LIMIT 1;

-- name: insert-snapshot
INSERT OR REPLACE INTO upvote_snapshots (paper_id, taken_at, upvotes) VALUES (?, ?, ?);

-- name: delete-paper
DELETE FROM papers WHERE id = ?;

-- name: remember-removed-paper
INSERT OR REPLACE INTO removed_papers (title_key, arxiv_id, title, removed_at) VALUES (?, ?, ?, ?);

-- name: removed-title-keys
SELECT title_key FROM removed_papers;

-- name: removed-arxiv-ids
SELECT arxiv_id FROM removed_papers WHERE arxiv_id IS NOT NULL;

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
