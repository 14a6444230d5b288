-- name: feedback-upsert
-- A second tap on the same paper replaces the first (a reader who changes their mind is the latest word).
INSERT INTO feedback (subscriber_id, paper_id, signal, source, created_at)
VALUES (@subscriber_id, @paper_id, @signal, @source, @now)
ON CONFLICT (subscriber_id, paper_id) DO UPDATE SET signal = excluded.signal, source = excluded.source, created_at = excluded.created_at
RETURNING id;

-- name: feedback-delete
-- Undo.
DELETE FROM feedback WHERE subscriber_id = ? AND paper_id = ?;

-- name: feedback-get
SELECT id, subscriber_id, paper_id, signal, source, created_at FROM feedback WHERE subscriber_id = ? AND paper_id = ?;

-- name: feedback-by-subscriber
-- Newest first, with what a page needs to name the paper.
SELECT f.id, f.paper_id, f.signal, f.source, f.created_at, p.title
FROM feedback f JOIN papers p ON p.id = f.paper_id
WHERE f.subscriber_id = ? ORDER BY f.created_at DESC, f.id DESC LIMIT ?;

-- name: feedback-count-by-subscriber
SELECT COUNT(*) AS n FROM feedback WHERE subscriber_id = ?;

-- name: feedback-sent-deliveries
-- A reader's own feed and last digest: the deliveries that went out to them, newest first, each with the paper ids
-- it carried in the order the email showed them (deliveries.paper_ids, written when the delivery was planned).
SELECT d.id, d.paper_ids, d.sent_at, e.kind, e.frequency, e.local_date
FROM deliveries d JOIN editions e ON e.id = d.edition_id
WHERE d.subscriber_id = ? AND d.status = 'sent' AND d.sent_at IS NOT NULL
ORDER BY d.sent_at DESC, d.id DESC LIMIT ?;
