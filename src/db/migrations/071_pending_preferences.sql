-- Preferences someone asked for through the form for an address that already exists (issue 13): anyone can type
-- anyone's address, so they wait here (JSON, as preferencesSchema reads it) and replace the stored ones only when the
-- owner confirms from the emailed link. NULL when nothing waits.
ALTER TABLE subscribers ADD COLUMN pending_preferences TEXT;
