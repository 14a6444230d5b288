-- The durable queue of confirmation emails: the HTTP handler only adds a row; a worker sends and retries.
-- No token is stored here: the worker mints a fresh one per attempt, so the plain token lives only in the email.
CREATE TABLE confirmation_queue (
  id              INTEGER PRIMARY KEY,
  subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT    NOT NULL,
  last_error      TEXT,
  created_at      TEXT    NOT NULL,
  updated_at      TEXT    NOT NULL,
  sent_at         TEXT
);
CREATE INDEX confirmation_queue_due ON confirmation_queue(status, next_attempt_at);
CREATE INDEX confirmation_queue_subscriber ON confirmation_queue(subscriber_id);
