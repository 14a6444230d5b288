-- The corpus: one row per distinct paper, every listing it came from, and an FTS5 index kept in sync by triggers.
CREATE TABLE papers (
  id              INTEGER PRIMARY KEY,
  title_key       TEXT    NOT NULL UNIQUE,          -- normalised title: a paper's identity across pages
  title           TEXT    NOT NULL,
  abstract        TEXT    NOT NULL,
  authors         INTEGER,                          -- NULL when no page says
  published_on    TEXT,                             -- YYYY-MM-DD, NULL when no page says
  upvotes         INTEGER,
  first_listed_on TEXT,                             -- earliest listing date of a page carrying it
  links           TEXT    NOT NULL DEFAULT '[]',    -- JSON [{url, kind}]
  first_seen_at   TEXT    NOT NULL,
  updated_at      TEXT    NOT NULL
);

CREATE TABLE paper_sources (
  paper_id  INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
  file      TEXT    NOT NULL,   -- page file name
  line      INTEGER NOT NULL,   -- line of the entry's title
  position  INTEGER NOT NULL,   -- 1-based entry number on the page
  listed_on TEXT,               -- the page's listing date
  PRIMARY KEY (file, line)
);
CREATE INDEX paper_sources_paper ON paper_sources(paper_id);

CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');

-- Bulk ingest sets `deferred` inside its transaction and indexes its new rows in one statement afterwards:
-- row-by-row indexing through the trigger is several times slower. Any other insert is indexed at once.
CREATE TABLE fts_sync (deferred INTEGER NOT NULL CHECK (deferred IN (0, 1)));
INSERT INTO fts_sync (deferred) VALUES (0);

CREATE TRIGGER papers_ai AFTER INSERT ON papers WHEN (SELECT deferred FROM fts_sync) = 0 BEGIN
  INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
END;
CREATE TRIGGER papers_ad AFTER DELETE ON papers BEGIN
  INSERT INTO papers_fts(papers_fts, rowid, title, abstract) VALUES ('delete', old.id, old.title, old.abstract);
END;
CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract ON papers BEGIN
  INSERT INTO papers_fts(papers_fts, rowid, title, abstract) VALUES ('delete', old.id, old.title, old.abstract);
  INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.id, new.title, new.abstract);
END;
