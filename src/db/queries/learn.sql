-- Queries of the per-reader relevance model (src/learn/).

-- name: learn-corpus-version
-- Changes whenever a paper is added, removed or its text, authors or links change: the shared vocabulary is rebuilt then.
SELECT (SELECT generation FROM corpus_sync) AS generation, COUNT(*) AS n, COALESCE(MAX(updated_at), '') AS updated FROM papers;

-- name: learn-corpus-text
-- Everything the vectoriser reads, once per corpus version.
SELECT id, title, abstract, author_names, links FROM papers;

-- name: learn-reader
-- The send path's one read per reader: their ranking choices and their stored model (NULL before the first fit).
SELECT s.topics, s.muted_topics, s.followed_authors, s.only_with_code, s.selection_mode, s.relevance_bar, s.trend_weight,
  m.weights, m.liked
FROM subscribers s LEFT JOIN reader_models m ON m.subscriber_id = s.id
WHERE s.id = ?;

-- name: learn-feedback-for-fit
-- Newest first (the liked list keeps the newest); the UNIQUE (subscriber_id, paper_id) index serves the filter.
SELECT paper_id, signal FROM feedback WHERE subscriber_id = ? ORDER BY created_at DESC, id DESC;

-- name: learn-model-upsert
INSERT INTO reader_models (subscriber_id, weights, liked, feedback_count, fitted_at)
VALUES (@subscriber_id, @weights, @liked, @feedback_count, @now)
ON CONFLICT (subscriber_id) DO UPDATE SET weights = excluded.weights, liked = excluded.liked,
  feedback_count = excluded.feedback_count, fitted_at = excluded.fitted_at;

-- name: learn-model-delete
-- Nothing left to learn from (feedback undone, topics cleared): back to the cold start.
DELETE FROM reader_models WHERE subscriber_id = ?;

-- name: learn-model-size
-- For the tests and `bench -- ranking`: the stored bytes per reader.
SELECT subscriber_id, length(weights) AS bytes, feedback_count FROM reader_models WHERE subscriber_id = ?;
