-- name: delivery-edition-ensure
-- Editions are created by whoever meets them first; the UNIQUE key makes racing planners agree.
INSERT OR IGNORE INTO editions (kind, frequency, local_date, created_at) VALUES (?, ?, ?, ?);

-- name: delivery-edition-id
SELECT id FROM editions WHERE kind = ? AND frequency = ? AND local_date = ?;

-- name: delivery-variant-id
SELECT id FROM edition_variants WHERE edition_id = ? AND key = ?;

-- name: delivery-variant-insert
-- Two planners may render the same selection at once; the first insert wins and both use its id.
INSERT OR IGNORE INTO edition_variants (edition_id, key, subject, html, text, paper_count, created_at)
VALUES (@edition_id, @key, @subject, @html, @text, @paper_count, @now);

-- name: delivery-variant-get
SELECT v.id, v.edition_id, e.kind, e.frequency, v.subject, v.html, v.text
FROM edition_variants v JOIN editions e ON e.id = v.edition_id WHERE v.id = ?;

-- name: delivery-piece-get
-- A wrapper or paper block an assembled variant names (src/render/blocks.ts): stored once per edition beside the variants.
SELECT html, text FROM edition_variants WHERE edition_id = ? AND key = ?;

-- name: delivery-subscribers-page
-- Keyset page of subscribers who can get a digest (never an open iterate(): it would block writes on the connection).
SELECT id, email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone, created_at, confirmed_at
FROM subscribers
WHERE status = 'active' AND frequency != 'paused' AND id > @after AND (@kind IS NULL OR kind = @kind)
ORDER BY id
LIMIT @limit;

-- name: delivery-subscriber-by-email
SELECT id, email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone, created_at, confirmed_at
FROM subscribers WHERE email = ? COLLATE NOCASE;

-- name: delivery-subscriber-state
-- What the due check needs: the latest period already in the ledger for this frequency, and whether one is still in flight.
SELECT
  (SELECT MAX(period) FROM deliveries WHERE subscriber_id = @id AND frequency = @frequency) AS latest_period,
  EXISTS (SELECT 1 FROM deliveries WHERE subscriber_id = @id AND status IN ('queued', 'sending')) AS outstanding;

-- name: delivery-insert
-- OR IGNORE: the UNIQUE keys make a second planner (cron, CLI, HTTP, another process) a no-op.
-- NOT EXISTS: never queue a digest while an earlier one is still queued or sending, so both cannot carry the same paper.
INSERT OR IGNORE INTO deliveries
  (edition_id, subscriber_id, frequency, period, variant_id, paper_ids, status, skip_reason, run_id, next_attempt_at, created_at, updated_at)
SELECT @edition_id, @subscriber_id, @frequency, @period, @variant_id, @paper_ids, @status, @skip_reason, @run_id, @now, @now, @now
WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE subscriber_id = @subscriber_id AND status IN ('queued', 'sending'));

-- name: delivery-due-page
-- Keyset page of queued deliveries whose time has come, with what the sender needs about the subscriber.
SELECT d.id, d.edition_id, d.subscriber_id, d.variant_id, d.attempts, s.email, s.status AS subscriber_status
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
WHERE d.status = 'queued' AND d.id > @after AND d.next_attempt_at <= @now
ORDER BY d.id
LIMIT @limit;

-- name: delivery-claim-batch
-- delivery-claim for a whole batch in one statement (@batch: JSON [[id, message_id], ...]); returns the ids claimed.
UPDATE deliveries SET status = 'sending', attempts = attempts + 1, message_id = j.value ->> 1, updated_at = @now, on_wire_at = NULL
FROM json_each(@batch) j
-- The unary + keeps SQLite from walking every queued row by the status index: one rowid lookup per batch entry.
WHERE deliveries.id = j.value ->> 0 AND +deliveries.status = 'queued'
RETURNING deliveries.id;

-- name: delivery-mark-sent-batch
-- delivery-mark-sent for a whole batch (@batch: JSON [[id, response], ...]); returns the ids that were still sending.
UPDATE deliveries SET status = 'sent', smtp_response = j.value ->> 1, sent_at = @now, updated_at = @now, next_attempt_at = NULL
FROM json_each(@batch) j
WHERE deliveries.id = j.value ->> 0 AND +deliveries.status = 'sending'
RETURNING deliveries.id;

-- name: delivery-record-sent-papers-batch
-- delivery-record-sent-papers for the ids (JSON array) delivery-mark-sent-batch returned, in the same transaction.
INSERT OR IGNORE INTO sent_papers (subscriber_id, paper_id, delivery_id)
SELECT d.subscriber_id, p.id, d.id
FROM json_each(?) k JOIN deliveries d ON d.id = k.value, json_each(d.paper_ids) j JOIN papers p ON p.id = j.value;

-- name: delivery-mark-retry
-- A connection lost with no reply after the body went out also flags was_unknown: a retry may duplicate it.
UPDATE deliveries SET status = 'queued', next_attempt_at = @next, smtp_response = @response, updated_at = @now,
  was_unknown = (was_unknown OR (@maybe_delivered AND on_wire_at IS NOT NULL))
WHERE id = @id AND status = 'sending';

-- name: delivery-mark-final
-- failed or bounced: the end of this delivery, with the server's reply kept for the dashboard.
UPDATE deliveries SET status = @status, smtp_response = @response, updated_at = @now, next_attempt_at = NULL
WHERE id = @id AND status = 'sending';

-- name: delivery-mark-skipped
UPDATE deliveries SET status = 'skipped', skip_reason = @reason, updated_at = @now, next_attempt_at = NULL
WHERE id = @id AND status = 'queued';

-- name: delivery-suppress-subscriber
-- A hard bounce, or soft ones repeated (src/delivery/bounce-processing.ts), suppress the address; an unsubscribe wins over it.
UPDATE subscribers SET status = 'bounced', bounced_at = @now, bounce_reason = @reason, updated_at = @now
WHERE id = @id AND status IN ('active', 'pending');

-- name: delivery-mark-on-wire
-- The wire journal: written (and committed) before the message body is handed to the socket.
UPDATE deliveries SET on_wire_at = @now WHERE id = @id AND status = 'sending';

-- name: delivery-orphans-requeue
-- At lease takeover: a row left `sending` whose body never went to the socket was never sent. It goes back to the
-- queue with its attempt given back: the crash was ours, not the message's.
UPDATE deliveries SET status = 'queued', attempts = MAX(0, attempts - 1), next_attempt_at = @now, updated_at = @now
WHERE status = 'sending' AND on_wire_at IS NULL;

-- name: delivery-orphans-to-unknown
-- At lease takeover: rows left `sending` after their body went to the socket: the server may have taken them.
UPDATE deliveries SET status = 'unknown', was_unknown = 1, updated_at = ? WHERE status = 'sending';

-- name: delivery-unknown-requeue
-- RESEND_UNKNOWN=true: send them again (same Message-ID, so a receiver may drop the copy). Only the rows this
-- recovery just turned unknown (same updated_at): older unknown rows were settled by the setting of their day.
UPDATE deliveries SET status = 'queued', next_attempt_at = @now, updated_at = @now WHERE status = 'unknown' AND updated_at = @recovered_at;

-- name: delivery-unknown-record-papers
-- RESEND_UNKNOWN=false: count their papers as sent, since they may have arrived.
INSERT OR IGNORE INTO sent_papers (subscriber_id, paper_id, delivery_id)
SELECT d.subscriber_id, p.id, d.id
FROM deliveries d, json_each(d.paper_ids) j JOIN papers p ON p.id = j.value
WHERE d.status = 'unknown' AND d.updated_at = ?;

-- name: lease-get
SELECT name, holder, expires_at FROM leases WHERE name = ?;

-- name: lease-put
-- acquired_at changes only with the holder: a renewal keeps "held since".
INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (@name, @holder, @expires_at, @now)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
  acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END;

-- name: lease-holder
SELECT holder, acquired_at, expires_at FROM leases WHERE name = ?;

-- name: lease-release
DELETE FROM leases WHERE name = ? AND holder = ?;

-- name: run-insert
-- OR IGNORE on the idempotency key: a repeated POST finds the first run instead of starting another.
INSERT OR IGNORE INTO send_runs (id, trigger, mode, kind, target, dry_run, idempotency_key, request_hash, frequency, started_at)
VALUES (@id, @trigger, @mode, @kind, @target, @dry_run, @idempotency_key, @request_hash, @frequency, @now);

-- name: run-get
SELECT * FROM send_runs WHERE id = ?;

-- name: run-get-by-key
SELECT * FROM send_runs WHERE idempotency_key = ?;

-- name: run-set-planned
UPDATE send_runs SET planned = @planned, skipped = @skipped, editions = @editions WHERE id = @id;

-- name: editions-waiting
-- Editions with rows still queued or being sent, whoever planned them: a run reports these too.
SELECT DISTINCT edition_id FROM deliveries WHERE status IN ('queued', 'sending') ORDER BY edition_id;

-- name: edition-state
-- One edition as a whole, whichever runs planned its rows: what a run's summary reports besides its own rows.
SELECT e.id, e.kind, e.frequency, e.local_date,
  COUNT(d.id) FILTER (WHERE d.status = 'sent') AS sent,
  COUNT(d.id) FILTER (WHERE d.status IN ('queued', 'sending')) AS waiting,
  COUNT(d.id) FILTER (WHERE d.status = 'failed') AS failed,
  COUNT(d.id) FILTER (WHERE d.status = 'bounced') AS bounced,
  COUNT(d.id) FILTER (WHERE d.status = 'unknown') AS unknown,
  COUNT(d.id) FILTER (WHERE d.status = 'skipped') AS skipped
FROM editions e LEFT JOIN deliveries d ON d.edition_id = e.id
WHERE e.id = ?
GROUP BY e.id;

-- name: run-finish
UPDATE send_runs SET status = @status, error = @error, finished_at = @now WHERE id = @id;

-- name: run-delete
-- A scheduler tick that found nobody due leaves no row (one a minute would bury the real runs).
DELETE FROM send_runs WHERE id = ?;

-- name: run-delivery-counts
SELECT status, COUNT(*) AS n, SUM(attempts > 0 AND status = 'queued') AS retrying FROM deliveries WHERE run_id = ? GROUP BY status;

-- name: run-wait-reasons
-- Why a run's rows still wait: the last reply (or connection error) each got, most common first.
SELECT smtp_response AS reason, COUNT(*) AS n FROM deliveries
WHERE run_id = ? AND status = 'queued' AND smtp_response IS NOT NULL
GROUP BY smtp_response ORDER BY n DESC, reason LIMIT 3;

-- name: run-due-left
-- What still holds a run open: rows being sent, or queued and due now (rows waiting for a later retry do not).
SELECT COUNT(*) AS n FROM deliveries WHERE run_id = @id AND (status = 'sending' OR (status = 'queued' AND next_attempt_at <= @now));

-- name: runs-recent
SELECT * FROM send_runs ORDER BY started_at DESC, rowid DESC LIMIT ?;

-- name: dash-subscribers-by-status
SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status ORDER BY status;

-- name: dash-subscriber-history
-- Each subscriber's dated events: the dashboard derives the count by status on each day from them.
SELECT status, created_at, confirmed_at, unsubscribed_at, bounced_at FROM subscribers;

-- name: run-failures
-- One run's deliveries that did not simply go out: failed, bounced, unknown, or waiting for a retry, with the server's words.
SELECT d.id, s.email, d.status, d.attempts, d.smtp_response, d.updated_at
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
WHERE d.run_id = ? AND (d.status IN ('failed', 'bounced', 'unknown') OR (d.status = 'queued' AND d.attempts > 0))
ORDER BY d.id
LIMIT ?;

-- name: dash-sends-per-day
SELECT substr(sent_at, 1, 10) AS day, COUNT(*) AS n FROM deliveries
WHERE status = 'sent' AND sent_at >= ? GROUP BY day ORDER BY day;

-- name: dash-failures
-- The latest failures and retries with the server's words.
SELECT d.id, s.email, d.status, d.attempts, d.smtp_response, d.updated_at
FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
WHERE d.status IN ('failed', 'bounced') OR (d.status = 'queued' AND d.attempts > 0)
ORDER BY d.updated_at DESC, d.id DESC
LIMIT ?;

-- name: delivery-mark-unsent
-- The mail server could not be reached: nothing was sent, so the row goes back to the queue with its attempt given
-- back and is never flagged was_unknown (an outage is the server's state, not the message's).
UPDATE deliveries SET status = 'queued', attempts = MAX(0, attempts - 1), next_attempt_at = @now, smtp_response = @response, updated_at = @now
WHERE id = @id AND status = 'sending';
