-- The live corpus (src/corpus/fetcher.ts): what the daily-papers and arXiv APIs know of a paper beyond the seed pages,
-- the upvote count seen by each fetch (trending uses what was gained lately), each fetch's outcome (the dashboard),
-- and the papers an admin removed (ingest and fetch do not bring them back).
ALTER TABLE papers ADD COLUMN arxiv_id TEXT;                                -- without version: 2412.01234, hep-th/9901001
ALTER TABLE papers ADD COLUMN author_names TEXT NOT NULL DEFAULT '[]';      -- JSON ["Ada Lovelace", ...]; `authors` stays the count
ALTER TABLE papers ADD COLUMN tldr TEXT;                                    -- the source's one-line summary (ai_summary)
ALTER TABLE papers ADD COLUMN organization TEXT;
ALTER TABLE papers ADD COLUMN comments INTEGER;
-- A paper's key is its arXiv id when known (title_key stays the key of papers without one, and of the seed pages).
CREATE UNIQUE INDEX papers_arxiv_id ON papers (arxiv_id) WHERE arxiv_id IS NOT NULL;

-- One row each time a fetch saw a paper's count change (an unchanged count adds nothing the score could use).
CREATE TABLE upvote_snapshots (
  paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
  taken_at TEXT    NOT NULL,                  -- ISO time of the fetch
  upvotes  INTEGER NOT NULL,
  PRIMARY KEY (paper_id, taken_at)
) WITHOUT ROWID;

-- One row per source per fetch: the dashboard shows the last of each, and why it failed.
CREATE TABLE fetch_runs (
  id          INTEGER PRIMARY KEY,
  source      TEXT    NOT NULL,               -- daily-papers | arxiv
  trigger     TEXT    NOT NULL,               -- start | cron | cli
  dates       TEXT    NOT NULL,               -- what was asked: "2026-03-09..2026-03-10", or the arXiv categories
  status      TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
  requests    INTEGER NOT NULL DEFAULT 0,
  received    INTEGER NOT NULL DEFAULT 0,     -- papers in the answers
  skipped     INTEGER NOT NULL DEFAULT 0,     -- items that did not validate
  added       INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  error       TEXT,
  started_at  TEXT    NOT NULL,
  finished_at TEXT
);
CREATE INDEX fetch_runs_source ON fetch_runs (source, started_at);

-- `paperboy papers remove ID`: the seeds are ingested at every start and the API lists a paper for days, so a removed
-- paper is remembered by its keys and skipped from then on.
CREATE TABLE removed_papers (
  title_key  TEXT PRIMARY KEY,
  arxiv_id   TEXT,
  title      TEXT NOT NULL,
  removed_at TEXT NOT NULL
);
CREATE INDEX removed_papers_arxiv ON removed_papers (arxiv_id) WHERE arxiv_id IS NOT NULL;
