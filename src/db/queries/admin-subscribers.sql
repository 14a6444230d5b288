-- name: admin-subscriber-search
-- The admin list: newest first, an address substring (case-insensitive; instr, so % and _ in the search are literal),
-- one status, or only addresses that complained. NULL/0 turns a filter off.
SELECT * FROM subscribers
WHERE (@status IS NULL OR status = @status)
  AND (@complained = 0 OR complained_at IS NOT NULL)
  AND (@q IS NULL OR instr(lower(email), lower(@q)) > 0)
ORDER BY id DESC LIMIT @limit OFFSET @offset;

-- name: admin-subscriber-search-count
SELECT COUNT(*) AS n FROM subscribers
WHERE (@status IS NULL OR status = @status)
  AND (@complained = 0 OR complained_at IS NOT NULL)
  AND (@q IS NULL OR instr(lower(email), lower(@q)) > 0);

-- name: admin-subscriber-complained-count
SELECT COUNT(*) AS n FROM subscribers WHERE complained_at IS NOT NULL;

-- name: admin-subscriber-deliveries
-- One subscriber's digests, newest first, with what the mail server answered.
SELECT d.id, e.kind, d.frequency, d.period, d.status, d.attempts, d.smtp_response, d.skip_reason, d.message_id,
  d.created_at, d.sent_at, d.updated_at, json_array_length(d.paper_ids) AS papers
FROM deliveries d JOIN editions e ON e.id = d.edition_id
WHERE d.subscriber_id = ? ORDER BY d.id DESC LIMIT ?;

-- name: admin-subscriber-delivery-count
SELECT COUNT(*) AS n FROM deliveries WHERE subscriber_id = ?;

-- name: admin-subscriber-bounces
SELECT b.id, b.severity, b.status, b.action, b.diagnostic, b.source, b.received_at, e.local_date AS edition
FROM bounces b LEFT JOIN editions e ON e.id = b.edition_id
WHERE b.subscriber_id = ? ORDER BY b.received_at DESC, b.id DESC LIMIT ?;

-- name: admin-subscriber-complaints
SELECT c.id, c.feedback_type, c.user_agent, c.received_at, e.local_date AS edition
FROM complaints c LEFT JOIN editions e ON e.id = c.edition_id
WHERE c.subscriber_id = ? ORDER BY c.received_at DESC, c.id DESC LIMIT ?;

-- name: admin-subscriber-unsuppress
-- An admin lifts a suppression (delivery-suppress-subscriber's, or their own): back to active when the address once
-- confirmed, else pending; one that complained stays unsubscribed, since nobody who complained is mailed again.
-- The bounce rows stay as history; only the subscriber's own flag is cleared.
UPDATE subscribers SET
  status = CASE WHEN complained_at IS NOT NULL THEN 'unsubscribed' WHEN confirmed_at IS NOT NULL THEN 'active' ELSE 'pending' END,
  bounced_at = NULL, bounce_reason = NULL, updated_at = @now
WHERE id = @id AND status = 'bounced';

-- name: admin-subscriber-erase-stray-bounces
-- GDPR erase: bounce reports that named the address but matched no subscriber row still hold it (the subscriber's
-- own rows go with it by ON DELETE CASCADE).
DELETE FROM bounces WHERE subscriber_id IS NULL AND email = ? COLLATE NOCASE;

-- name: admin-subscriber-erase-run-targets
-- GDPR erase: a send run aimed at one address (`send --to`, a test send) names it; the run's counts stay.
UPDATE send_runs SET target = NULL WHERE target = ? COLLATE NOCASE;
