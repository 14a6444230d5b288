-- name: subscriber-get-by-email
-- Case-insensitive, like the unique index of migration 070 (which this comparison uses).
SELECT * FROM subscribers WHERE email = ? COLLATE NOCASE;

-- name: subscriber-get-by-id
SELECT * FROM subscribers WHERE id = ?;

-- name: subscriber-insert
-- New addresses always start pending, except admin adds and imports marked confirmed.
INSERT INTO subscribers (email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone, source,
  created_at, updated_at, confirmed_at, muted_topics, followed_authors, only_with_code, selection_mode, relevance_bar, trend_weight)
VALUES (@email, @status, @frequency, @weekday, @kind, @topics, @digest_size, @delivery_hour, @time_zone, @source,
  @now, @now, @confirmed_at, @muted_topics, @followed_authors, @only_with_code, @selection_mode, @relevance_bar, @trend_weight)
RETURNING *;

-- name: subscriber-insert-or-ignore
-- The import path: an address already present is skipped, never overwritten.
INSERT OR IGNORE INTO subscribers (email, status, frequency, weekday, kind, topics, digest_size, delivery_hour, time_zone,
  source, created_at, updated_at, confirmed_at, muted_topics, followed_authors, only_with_code, selection_mode, relevance_bar, trend_weight)
VALUES (@email, @status, @frequency, @weekday, @kind, @topics, @digest_size, @delivery_hour, @time_zone, @source,
  @now, @now, @confirmed_at, @muted_topics, @followed_authors, @only_with_code, @selection_mode, @relevance_bar, @trend_weight);

-- name: subscriber-claim-confirmation-slot
-- The one-confirmation-a-day cap: only one caller per 24 hours gets a change here, even under concurrent requests.
-- An unsubscribed address someone asked to subscribe again (pending_preferences set) gets one too, and stays
-- unsubscribed until its owner confirms from that email.
UPDATE subscribers SET last_confirmation_sent_at = @now
WHERE id = @id AND (status = 'pending' OR (status = 'unsubscribed' AND pending_preferences IS NOT NULL))
  AND (last_confirmation_sent_at IS NULL OR last_confirmation_sent_at <= @cutoff);

-- name: subscriber-activate
-- Confirming twice (another token of the same address) keeps the first confirmed_at. An unsubscribed address comes
-- back only through a token mailed after it unsubscribed: an old link does not revive it.
UPDATE subscribers SET status = 'active', confirmed_at = COALESCE(confirmed_at, @now), unsubscribed_at = NULL, updated_at = @now
WHERE id = @id AND (status IN ('pending', 'active') OR (status = 'unsubscribed' AND unsubscribed_at <= @token_created_at));

-- name: subscriber-set-active
-- Admin add/import with --confirmed: no email involved.
UPDATE subscribers SET status = 'active', confirmed_at = COALESCE(confirmed_at, @now), updated_at = @now
WHERE id = @id AND status IN ('pending', 'unsubscribed');

-- name: subscriber-unsubscribe
-- A bounced address stays bounced: its status says more than "unsubscribed" would. Preferences someone asked for
-- while it was pending are dropped with it; so is a request to come back (an unsubscribed address with preferences
-- waiting), and the new unsubscribed_at makes the confirmation mailed for that request useless.
UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = @now, pending_preferences = NULL, updated_at = @now
WHERE id = @id AND (status IN ('pending', 'active') OR (status = 'unsubscribed' AND pending_preferences IS NOT NULL));

-- name: subscriber-mark-bounced
UPDATE subscribers SET status = 'bounced', bounced_at = @now, bounce_reason = @reason, updated_at = @now
WHERE id = @id;

-- name: subscriber-update-preferences
-- Only the owner gets here (a signed link, or confirming), so whatever waited in pending_preferences is settled.
UPDATE subscribers SET frequency = @frequency, weekday = @weekday, kind = @kind, topics = @topics,
  digest_size = @digest_size, delivery_hour = @delivery_hour, time_zone = @time_zone, muted_topics = @muted_topics,
  followed_authors = @followed_authors, only_with_code = @only_with_code, selection_mode = @selection_mode,
  relevance_bar = @relevance_bar, trend_weight = @trend_weight, pending_preferences = NULL, updated_at = @now
WHERE id = @id;

-- name: subscriber-set-pending-preferences
-- The form for an existing address: kept aside until the owner confirms (migration 071).
UPDATE subscribers SET pending_preferences = @prefs, updated_at = @now WHERE id = @id;

-- name: subscriber-delete
DELETE FROM subscribers WHERE id = ?;

-- name: subscriber-page
-- Keyset paging by id, so listing and exporting never hold a read open across the whole table.
SELECT * FROM subscribers WHERE id > ? ORDER BY id LIMIT ?;

-- name: subscriber-page-by-status
SELECT * FROM subscribers WHERE status = ? AND id > ? ORDER BY id LIMIT ?;

-- name: subscriber-count-by-status
SELECT status, COUNT(*) AS n FROM subscribers GROUP BY status;

-- name: subscriber-confirm-token-insert
INSERT INTO confirm_tokens (token_hash, subscriber_id, created_at, expires_at) VALUES (@token_hash, @subscriber_id, @now, @expires_at);

-- name: subscriber-confirm-token-get
SELECT * FROM confirm_tokens WHERE token_hash = ?;

-- name: subscriber-confirm-token-use
-- Single use: only the first POST with an unexpired token changes the row.
UPDATE confirm_tokens SET used_at = @now WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > @now;

-- name: subscriber-confirm-token-delete
-- A token whose email never left is removed, so only delivered links can confirm.
DELETE FROM confirm_tokens WHERE token_hash = ?;

-- name: subscriber-confirm-token-purge
-- Tokens that expired long ago (the worker passes a month back) can answer nothing any more.
DELETE FROM confirm_tokens WHERE expires_at < @before;

-- name: subscriber-confirmation-enqueue
INSERT INTO confirmation_queue (subscriber_id, next_attempt_at, created_at, updated_at) VALUES (@subscriber_id, @now, @now, @now);

-- name: subscriber-confirmation-claim
-- One due row moves to sending; the worker owns it until it records an outcome.
UPDATE confirmation_queue SET status = 'sending', attempts = attempts + 1, updated_at = @now
WHERE id = (SELECT id FROM confirmation_queue WHERE status = 'queued' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT 1)
RETURNING *;

-- name: subscriber-confirmation-sent
UPDATE confirmation_queue SET status = 'sent', sent_at = @now, updated_at = @now, last_error = NULL WHERE id = @id;

-- name: subscriber-confirmation-retry
UPDATE confirmation_queue SET status = 'queued', next_attempt_at = @next_attempt_at, last_error = @error, updated_at = @now WHERE id = @id;

-- name: subscriber-confirmation-unsent
-- The mail server could not be reached: nothing went out, so the attempt is given back (an outage of any length
-- never fails a confirmation).
UPDATE confirmation_queue SET status = 'queued', attempts = MAX(0, attempts - 1), next_attempt_at = @next_attempt_at, last_error = @error, updated_at = @now WHERE id = @id;

-- name: subscriber-confirmation-fail
UPDATE confirmation_queue SET status = 'failed', last_error = @error, updated_at = @now WHERE id = @id;

-- name: subscriber-confirmation-requeue-stuck
-- After a crash mid-send the outcome is unknown; a second confirmation email is harmless, a lost one is not.
UPDATE confirmation_queue SET status = 'queued', updated_at = @now WHERE status = 'sending';

-- name: subscriber-confirmation-next-due
-- When the worker should wake next.
SELECT MIN(next_attempt_at) AS at FROM confirmation_queue WHERE status = 'queued';

-- name: subscriber-confirmation-get
SELECT * FROM confirmation_queue WHERE subscriber_id = ? ORDER BY id;

-- name: subscriber-confirmation-purge
-- Finished jobs are only history; a month is plenty to answer "did my confirmation go out?".
DELETE FROM confirmation_queue WHERE status IN ('sent', 'failed') AND updated_at < @before;
