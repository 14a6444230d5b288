-- The delivery ledger: an edition per (kind, frequency, local date or ISO week); one delivery per subscriber per edition.
CREATE TABLE editions (
  id         INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('trending', 'new', 'both')),
  frequency  TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  local_date TEXT NOT NULL,              -- the period: YYYY-MM-DD (daily) or the ISO week YYYY-Www (weekly)
  created_at TEXT NOT NULL,
  UNIQUE (kind, frequency, local_date)
);

-- One rendered digest per distinct selection of an edition: rendered once, sent to every subscriber with that selection.
-- Stored so a restarted sender can rebuild the message without selecting or rendering again.
CREATE TABLE edition_variants (
  id          INTEGER PRIMARY KEY,
  edition_id  INTEGER NOT NULL REFERENCES editions(id),
  key         TEXT    NOT NULL,          -- the selection's key (its paper ids and whatever else changes the render)
  subject     TEXT    NOT NULL,
  html        TEXT    NOT NULL,          -- holds the link placeholders of src/delivery/mime.ts
  text        TEXT    NOT NULL,
  paper_count INTEGER NOT NULL,
  created_at  TEXT    NOT NULL,
  UNIQUE (edition_id, key)
);

CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  edition_id      INTEGER NOT NULL REFERENCES editions(id),
  subscriber_id   INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  frequency       TEXT    NOT NULL CHECK (frequency IN ('daily', 'weekly')),  -- copied from the edition for the UNIQUE below
  period          TEXT    NOT NULL,                                           -- the edition's local_date, likewise
  variant_id      INTEGER REFERENCES edition_variants(id),                    -- NULL when skipped
  paper_ids       TEXT    NOT NULL DEFAULT '[]',                              -- JSON; copied into sent_papers when sent
  status          TEXT    NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'unknown', 'skipped')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  smtp_response   TEXT,
  message_id      TEXT,
  skip_reason     TEXT,                  -- e.g. nothing left to send
  was_unknown     INTEGER NOT NULL DEFAULT 0,  -- 1 once a crash left it `sending`: the only rows that may have gone out twice
  run_id          TEXT,
  created_at      TEXT    NOT NULL,
  updated_at      TEXT    NOT NULL,
  sent_at         TEXT,
  UNIQUE (edition_id, subscriber_id),
  -- One digest per subscriber per local date (or week) even when they switch kind mid-day.
  UNIQUE (subscriber_id, frequency, period)
);
CREATE INDEX deliveries_status_id ON deliveries(status, id);  -- the sender pages queued rows by id
CREATE INDEX deliveries_run_status ON deliveries(run_id, status);
CREATE INDEX deliveries_sent_at ON deliveries(sent_at);

-- What each subscriber has been sent: "a paper is never sent twice" is a primary key.
CREATE TABLE sent_papers (
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  paper_id      INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
  delivery_id   INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  PRIMARY KEY (subscriber_id, paper_id)
);
CREATE INDEX sent_papers_delivery ON sent_papers(delivery_id);
