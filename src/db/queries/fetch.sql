-- name: start-fetch-run
INSERT INTO fetch_runs (source, trigger, dates, started_at) VALUES (?, ?, ?, ?);

-- name: finish-fetch-run
UPDATE fetch_runs SET status = @status, requests = @requests, received = @received, skipped = @skipped, added = @added,
  updated = @updated, error = @error, finished_at = @at
WHERE id = @id;

-- name: fetch-health
-- The dashboard: each source's last fetch, and when it last succeeded.
SELECT r.*, (SELECT MAX(finished_at) FROM fetch_runs o WHERE o.source = r.source AND o.status = 'ok') AS last_ok_at
FROM fetch_runs r
WHERE r.id IN (SELECT MAX(id) FROM fetch_runs GROUP BY source)
ORDER BY r.source;

-- name: snapshot-new-papers
-- A fetch merge's new papers (ids above the count before it) get their first upvote snapshot in one statement: their
-- stored count is the count the answer showed (fetch-merge.ts), and row by row costs twice as much.
INSERT OR REPLACE INTO upvote_snapshots (paper_id, taken_at, upvotes)
SELECT id, ?, upvotes FROM papers WHERE id > ? AND upvotes IS NOT NULL;

-- name: data-version
-- Changes when another connection commits to the corpus file: a merge's next chunk then reads the stored ids again.
PRAGMA main.data_version;
