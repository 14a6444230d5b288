-- A send can be for daily or weekly subscribers only (the admin's Send page, POST /admin/send `frequency`);
-- NULL is everyone, as every run before this was.
ALTER TABLE send_runs ADD COLUMN frequency TEXT CHECK (frequency IN ('daily', 'weekly'));
