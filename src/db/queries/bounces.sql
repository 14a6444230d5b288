-- name: bounce-delivery
-- The delivery a VERP token or a Message-ID names, with its subscriber's address.
SELECT d.id, d.subscriber_id, d.edition_id, d.message_id, s.email
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = ?;

-- name: bounce-insert
INSERT INTO bounces (subscriber_id, delivery_id, edition_id, email, severity, status, action, diagnostic, source, received_at)
VALUES (@subscriber_id, @delivery_id, @edition_id, @email, @severity, @status, @action, @diagnostic, @source, @now);

-- name: bounce-soft-count
-- Soft bounces in the window, one per delivery: a "delayed" notice and the later "failed" for one message count once.
SELECT COUNT(DISTINCT COALESCE(delivery_id, -id)) AS n FROM bounces
WHERE subscriber_id = @id AND severity = 'soft' AND received_at >= @since;

-- name: complaint-insert
INSERT INTO complaints (subscriber_id, delivery_id, edition_id, feedback_type, user_agent, received_at)
VALUES (@subscriber_id, @delivery_id, @edition_id, @feedback_type, @user_agent, @now);

-- name: complaint-unsubscribe
-- A complaint ends sending at once. A bounced address keeps its status (it says more); the time is kept either way.
UPDATE subscribers SET
  status = CASE WHEN status = 'bounced' THEN status ELSE 'unsubscribed' END,
  unsubscribed_at = CASE WHEN status IN ('pending', 'active') THEN @now ELSE unsubscribed_at END,
  pending_preferences = NULL, complained_at = @now, updated_at = @now
WHERE id = @id;

-- name: complaint-latest-delivery
-- When a report names the subscriber but not the message: the newest digest they were sent is the one complained of.
SELECT id, edition_id FROM deliveries WHERE subscriber_id = ? AND status = 'sent' ORDER BY id DESC LIMIT 1;

-- name: dash-bounces-recent
SELECT b.id, b.email, b.severity, b.status, b.action, b.diagnostic, b.source, b.received_at, s.status AS subscriber_status
FROM bounces b LEFT JOIN subscribers s ON s.id = b.subscriber_id
ORDER BY b.received_at DESC, b.id DESC LIMIT ?;

-- name: dash-returns-per-day
-- What came back each day since @since: hard and soft bounces, and complaints.
SELECT day, SUM(hard) AS hard, SUM(soft) AS soft, SUM(complaint) AS complaints FROM (
  SELECT substr(received_at, 1, 10) AS day, severity = 'hard' AS hard, severity = 'soft' AS soft, 0 AS complaint FROM bounces WHERE received_at >= @since
  UNION ALL
  SELECT substr(received_at, 1, 10), 0, 0, 1 FROM complaints WHERE received_at >= @since
) GROUP BY day ORDER BY day;

-- name: dash-returns-by-edition
-- The latest editions with what came back: complaint rate = complaints / sent (providers want it under 0.3%).
SELECT e.id, e.kind, e.frequency, e.local_date,
  (SELECT COUNT(*) FROM deliveries d WHERE d.edition_id = e.id AND d.status = 'sent') AS sent,
  (SELECT COUNT(*) FROM bounces b WHERE b.edition_id = e.id AND b.severity = 'hard') AS hard_bounces,
  (SELECT COUNT(*) FROM bounces b WHERE b.edition_id = e.id AND b.severity = 'soft') AS soft_bounces,
  (SELECT COUNT(*) FROM complaints c WHERE c.edition_id = e.id) AS complaints
FROM editions e ORDER BY e.id DESC LIMIT ?;
