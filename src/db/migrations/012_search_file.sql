-- The search index moves to its own database file (src/db/search-index.ts): a bulk ingest writes it from a second
-- thread while this file takes the rows, which one SQLite file (one writer) cannot do. What only the old in-file
-- index used goes; `corpus_sync` holds the generation the search file must match (a mismatch rebuilds it at open).
DROP TRIGGER IF EXISTS papers_ai;
DROP TRIGGER IF EXISTS papers_ad;
DROP TRIGGER IF EXISTS papers_au;
DROP TABLE IF EXISTS papers_fts;
DROP TABLE IF EXISTS fts_sync;
CREATE TABLE corpus_sync (generation INTEGER NOT NULL);
INSERT INTO corpus_sync (generation) VALUES (1);
