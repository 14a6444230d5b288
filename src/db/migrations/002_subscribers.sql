-- Subscribers and their confirmation tokens. Emails are stored normalised (trimmed, domain lower-cased).
CREATE TABLE subscribers (
  id                        INTEGER PRIMARY KEY,
  email                     TEXT    NOT NULL UNIQUE,
  status                    TEXT    NOT NULL DEFAULT 'pending'
                                    CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
  frequency                 TEXT    NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly', 'paused')),
  weekday                   INTEGER NOT NULL DEFAULT 1 CHECK (weekday BETWEEN 0 AND 6),   -- 0 = Sunday; used when weekly
  kind                      TEXT    NOT NULL DEFAULT 'trending' CHECK (kind IN ('trending', 'new', 'both')),
  topics                    TEXT    NOT NULL DEFAULT '[]',                                -- JSON array of keywords
  digest_size               INTEGER NOT NULL DEFAULT 10 CHECK (digest_size BETWEEN 1 AND 30),
  delivery_hour             INTEGER NOT NULL DEFAULT 8 CHECK (delivery_hour BETWEEN 0 AND 23),
  time_zone                 TEXT    NOT NULL DEFAULT 'UTC',
  source                    TEXT    NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'email', 'cli', 'import')),
  created_at                TEXT    NOT NULL,
  updated_at                TEXT    NOT NULL,
  confirmed_at              TEXT,
  unsubscribed_at           TEXT,
  last_confirmation_sent_at TEXT,                                                         -- enforces one confirmation a day
  bounced_at                TEXT,
  bounce_reason             TEXT
);
CREATE INDEX subscribers_status_id ON subscribers(status, id);

CREATE TABLE confirm_tokens (
  token_hash    TEXT    PRIMARY KEY,   -- sha256 of the token; the token itself is only ever in the email
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
  created_at    TEXT    NOT NULL,
  expires_at    TEXT    NOT NULL,
  used_at       TEXT
);
CREATE INDEX confirm_tokens_subscriber ON confirm_tokens(subscriber_id);
