-- The delivery ledger: an edition per (kind, frequency, local date); one delivery per subscriber per edition.
CREATE TABLE editions (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('trending', 'new', 'both')),
  frequency  TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  local_date TEXT NOT NULL,              -- YYYY-MM-DD (daily) or the Monday-free ISO week key YYYY-Www (weekly)
  created_at TEXT NOT NULL,
  UNIQUE (kind, frequency, local_date)
);

CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  edition_id      INTEGER NOT NULL REFERENCES editions(id),
  subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  status          TEXT    NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'unknown', 'skipped')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  smtp_response   TEXT,
  message_id      TEXT,
  skip_reason     TEXT,                  -- e.g. nothing left to send
  run_id          TEXT,
  created_at      TEXT    NOT NULL,
  updated_at      TEXT    NOT NULL,
  sent_at         TEXT,
  UNIQUE (edition_id, subscriber_id)
);
CREATE INDEX deliveries_status_next ON deliveries(status, next_attempt_at);
CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);

-- What each subscriber has been sent: "a paper is never sent twice" is a primary key.
CREATE TABLE sent_papers (
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  paper_id      INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
  delivery_id   INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  PRIMARY KEY (subscriber_id, paper_id)
);
CREATE INDEX sent_papers_delivery ON sent_papers(delivery_id);
