-- Admin and scheduled send runs (what the dashboard lists), and the lease that lets one process at a time send.
CREATE TABLE send_runs (
  id              TEXT    PRIMARY KEY,          -- random id returned by POST /admin/send and printed by `paperboy send`
  trigger         TEXT    NOT NULL CHECK (trigger IN ('cron', 'cli', 'http')),
  mode            TEXT    NOT NULL CHECK (mode IN ('due', 'force', 'to', 'test')),
  kind            TEXT,                         -- NULL = every kind
  target          TEXT,                         -- the --to or --test-address email
  dry_run         INTEGER NOT NULL DEFAULT 0,
  idempotency_key TEXT    UNIQUE,               -- the HTTP Idempotency-Key: a repeat returns the same run
  request_hash    TEXT,                         -- a repeat with a different body is refused
  status          TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  planned         INTEGER NOT NULL DEFAULT 0,   -- deliveries this run put in the ledger
  skipped         INTEGER NOT NULL DEFAULT 0,
  error           TEXT,
  started_at      TEXT    NOT NULL,
  finished_at     TEXT
);
CREATE INDEX send_runs_started ON send_runs(started_at);

-- A named lease: whoever holds `sender` (and keeps renewing it) is the only process sending deliveries.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,                     -- hostname:pid:random
  expires_at TEXT NOT NULL
);
