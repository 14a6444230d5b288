-- A run's counts by status (run-delivery-counts: the CLI's progress, the admin's live send page, every summary) read
-- the index alone: with `attempts` in it, "retrying" needs no row either. Before, each count read every row of the
-- run: at 1,000,000 deliveries some 900 MB of pages, five times a second from `paperboy send`'s progress, and the
-- send fell from 2,500 to 800 messages/s (npm run bench -- memory --million).
DROP INDEX IF EXISTS deliveries_run_status;
CREATE INDEX deliveries_run_status ON deliveries(run_id, status, attempts);
