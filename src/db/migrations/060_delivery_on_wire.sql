-- When a delivery's message body went to the socket (DATA answered 354). A crash leaves claimed rows `sending`:
-- only those with on_wire_at can have reached the server; the rest were never sent and go back to the queue.
ALTER TABLE deliveries ADD COLUMN on_wire_at TEXT;
