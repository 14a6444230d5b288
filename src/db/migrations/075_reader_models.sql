-- Each reader's fitted relevance model (issue 16, src/learn/): written by the background refit, only read on the send
-- path. `weights` is the sparse model (src/learn/model-codec.ts: the top terms and their weights, about 2 KB), so
-- 100,000 readers cost about 200 MB of disk and nothing in memory until their digest is chosen.
CREATE TABLE reader_models (
  subscriber_id  INTEGER PRIMARY KEY REFERENCES subscribers(id) ON DELETE CASCADE,
  weights        BLOB    NOT NULL,
  -- The papers the reader liked, newest first (JSON ids, at most 50): "because you liked <title>".
  liked          TEXT    NOT NULL DEFAULT '[]',
  -- How many feedback rows the fit saw, and when it ran.
  feedback_count INTEGER NOT NULL,
  fitted_at      TEXT    NOT NULL
);
