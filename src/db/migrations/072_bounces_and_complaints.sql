-- Mail that comes back: bounces (DSNs, text bounces, and 5xx replies at RCPT/DATA) and feedback-loop complaints.
-- Each row keeps what the report said, so an operator can see why an address was suppressed.
CREATE TABLE bounces (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
  delivery_id   INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
  edition_id    INTEGER REFERENCES editions(id) ON DELETE SET NULL,
  email         TEXT    NOT NULL,                  -- the recipient the report names (or the delivery's address)
  severity      TEXT    NOT NULL CHECK (severity IN ('hard', 'soft')),
  status        TEXT,                              -- enhanced status code, e.g. 5.1.1
  action        TEXT,                              -- the DSN's Action (failed, delayed), NULL for an SMTP reply
  diagnostic    TEXT,
  source        TEXT    NOT NULL CHECK (source IN ('dsn', 'text', 'smtp')),
  received_at   TEXT    NOT NULL
);
CREATE INDEX bounces_subscriber ON bounces(subscriber_id, received_at);
CREATE INDEX bounces_received ON bounces(received_at);

CREATE TABLE complaints (
  id            INTEGER PRIMARY KEY,
  subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
  delivery_id   INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,
  edition_id    INTEGER REFERENCES editions(id) ON DELETE SET NULL,
  feedback_type TEXT    NOT NULL,                  -- ARF Feedback-Type: abuse, fraud, ...
  user_agent    TEXT,
  received_at   TEXT    NOT NULL
);
CREATE INDEX complaints_edition ON complaints(edition_id);
CREATE INDEX complaints_received ON complaints(received_at);

-- A complaint unsubscribes; this says why, so nobody re-imports or re-adds the address by mistake.
ALTER TABLE subscribers ADD COLUMN complained_at TEXT;
