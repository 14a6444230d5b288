-- What each reader told us (issue 16): one tap per paper in the email, the preferences page or the paper page, and
-- the choices that steer their ranking. Undo deletes the row; a second tap on the same paper replaces the first.
CREATE TABLE feedback (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  paper_id      INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
  signal        INTEGER NOT NULL CHECK (signal IN (1, -1)),   -- 1 = more like this, -1 = less like this
  source        TEXT    NOT NULL CHECK (source IN ('email', 'preferences', 'paper')),
  created_at    TEXT    NOT NULL,
  UNIQUE (subscriber_id, paper_id)
);
CREATE INDEX feedback_created ON feedback(created_at);

-- Negative keywords: a paper matching one is never sent (JSON list, like topics).
ALTER TABLE subscribers ADD COLUMN muted_topics TEXT NOT NULL DEFAULT '[]';
-- Author names whose new papers always make the digest (JSON list).
ALTER TABLE subscribers ADD COLUMN followed_authors TEXT NOT NULL DEFAULT '[]';
-- 1 = only papers with a code link.
ALTER TABLE subscribers ADD COLUMN only_with_code INTEGER NOT NULL DEFAULT 0 CHECK (only_with_code IN (0, 1));
-- 'top' = the best digest_size papers; 'threshold' = only papers above relevance_bar, up to digest_size, none = skip.
ALTER TABLE subscribers ADD COLUMN selection_mode TEXT NOT NULL DEFAULT 'top' CHECK (selection_mode IN ('top', 'threshold'));
-- The bar for threshold mode, in percent of the reader model's probability of "more like this".
ALTER TABLE subscribers ADD COLUMN relevance_bar INTEGER NOT NULL DEFAULT 60 CHECK (relevance_bar BETWEEN 0 AND 100);
-- The one knob: 0 = only my topics (relevance), 100 = only the community trend; 50 weighs both.
ALTER TABLE subscribers ADD COLUMN trend_weight INTEGER NOT NULL DEFAULT 50 CHECK (trend_weight BETWEEN 0 AND 100);
