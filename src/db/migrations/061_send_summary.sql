-- The editions a run touched (JSON array of ids), so its summary can report each edition's state, and since when
-- the sender lease has been held by its holder (a run waiting on another process says since when).
ALTER TABLE send_runs ADD COLUMN editions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE leases ADD COLUMN acquired_at TEXT;
