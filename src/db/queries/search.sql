-- The search index lives in its own file, attached as `search` (src/db/search-index.ts). Queries marked "worker" also
-- run on the ingest worker's connection, which attaches only that file under the same name.

-- name: search-insert
-- worker: one paper's title and abstract, under its paper id.
INSERT INTO search.papers_fts (rowid, title, abstract) VALUES (?, ?, ?);

-- name: search-delete
-- worker: contentless_delete=1 lets a row go by its id alone (the old text is not kept).
DELETE FROM search.papers_fts WHERE rowid = ?;

-- name: search-set-generation
-- worker: the corpus generation this index now matches.
UPDATE search.search_sync SET generation = ?;

-- name: bump-corpus-generation
-- The first statement of an ingest: a write, so the transaction takes the corpus file's write lock at once (with the
-- busy timeout) but not the search file's, which the worker's connection writes meanwhile.
UPDATE corpus_sync SET generation = generation + 1 RETURNING generation;

-- name: search-index-papers-after
-- In-thread ingest: every new paper in one pass (row by row costs more in statement overhead).
INSERT INTO search.papers_fts (rowid, title, abstract) SELECT id, title, abstract FROM main.papers WHERE id > ?;
