-- Address identity is case-insensitive (issue 13): `Victim@x` and `victim@x` are one mailbox, as every large provider
-- treats them. Existing case twins are merged into one row, then a NOCASE unique index keeps it that way. NOCASE
-- folds ASCII only, which covers every address checkEmail accepts (dot-atom local part, punycoded domain).
-- The row kept for each group is the one with the most protective status (bounced > unsubscribed > active > pending;
-- ties go to the oldest row), so its spelling and preferences are those of the row that decides what is sent.

CREATE TEMP TABLE twin_members AS
SELECT id AS member, lower(email) AS k,
       CASE status WHEN 'bounced' THEN 4 WHEN 'unsubscribed' THEN 3 WHEN 'active' THEN 2 ELSE 1 END AS rank
FROM subscribers
WHERE lower(email) IN (SELECT lower(email) FROM subscribers GROUP BY lower(email) HAVING COUNT(*) > 1);

ALTER TABLE twin_members ADD COLUMN winner INTEGER;
UPDATE twin_members SET winner = (
  SELECT w.member FROM twin_members w WHERE w.k = twin_members.k ORDER BY w.rank DESC, w.member LIMIT 1
);

-- The earliest consent survives (created_at, confirmed_at); the latest confirmation keeps the one-a-day cap honest;
-- a twin's unsubscribe or bounce record is kept even when the other one decides the status.
UPDATE subscribers SET
  created_at = (SELECT MIN(s.created_at) FROM subscribers s JOIN twin_members m ON m.member = s.id WHERE m.winner = subscribers.id),
  confirmed_at = (SELECT MIN(s.confirmed_at) FROM subscribers s JOIN twin_members m ON m.member = s.id WHERE m.winner = subscribers.id),
  last_confirmation_sent_at = (SELECT MAX(s.last_confirmation_sent_at) FROM subscribers s JOIN twin_members m ON m.member = s.id WHERE m.winner = subscribers.id),
  unsubscribed_at = COALESCE(unsubscribed_at,
    (SELECT MAX(s.unsubscribed_at) FROM subscribers s JOIN twin_members m ON m.member = s.id WHERE m.winner = subscribers.id)),
  bounce_reason = CASE WHEN bounced_at IS NOT NULL THEN bounce_reason ELSE
    (SELECT s.bounce_reason FROM subscribers s JOIN twin_members m ON m.member = s.id
     WHERE m.winner = subscribers.id AND s.bounced_at IS NOT NULL ORDER BY s.bounced_at DESC LIMIT 1) END,
  bounced_at = COALESCE(bounced_at,
    (SELECT MAX(s.bounced_at) FROM subscribers s JOIN twin_members m ON m.member = s.id WHERE m.winner = subscribers.id)),
  updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE id IN (SELECT winner FROM twin_members);

-- Deliveries: one per subscriber per (frequency, period) is a UNIQUE of the ledger, so twins that both got a period keep
-- one row: a sent one first, then the kept subscriber's own, then the oldest. The papers of the others move onto it.
CREATE TEMP TABLE twin_deliveries AS
SELECT d.id AS old_id,
       (SELECT k.id FROM deliveries k JOIN twin_members km ON km.member = k.subscriber_id
        WHERE km.winner = m.winner AND k.frequency = d.frequency AND k.period = d.period
        ORDER BY (k.status = 'sent') DESC, (k.subscriber_id = m.winner) DESC, k.id LIMIT 1) AS keep_id
FROM deliveries d JOIN twin_members m ON m.member = d.subscriber_id;

UPDATE sent_papers SET delivery_id = (SELECT keep_id FROM twin_deliveries WHERE old_id = sent_papers.delivery_id)
WHERE delivery_id IN (SELECT old_id FROM twin_deliveries WHERE old_id <> keep_id);
DELETE FROM deliveries WHERE id IN (SELECT old_id FROM twin_deliveries WHERE old_id <> keep_id);
UPDATE deliveries SET subscriber_id = (SELECT winner FROM twin_members WHERE member = deliveries.subscriber_id)
WHERE subscriber_id IN (SELECT member FROM twin_members WHERE member <> winner);

-- Sent papers: the union, so a paper either spelling got is never sent again.
INSERT OR IGNORE INTO sent_papers (subscriber_id, paper_id, delivery_id)
SELECT m.winner, sp.paper_id, sp.delivery_id FROM sent_papers sp JOIN twin_members m ON m.member = sp.subscriber_id
WHERE m.member <> m.winner;
DELETE FROM sent_papers WHERE subscriber_id IN (SELECT member FROM twin_members WHERE member <> winner);

-- Tokens and queued confirmations follow the mailbox. A confirmation only activates a pending or active row and the
-- worker sends only to pending ones, so a twin's old link cannot revive an unsubscribed or bounced address.
UPDATE confirm_tokens SET subscriber_id = (SELECT winner FROM twin_members WHERE member = confirm_tokens.subscriber_id)
WHERE subscriber_id IN (SELECT member FROM twin_members WHERE member <> winner);
UPDATE confirmation_queue SET subscriber_id = (SELECT winner FROM twin_members WHERE member = confirmation_queue.subscriber_id)
WHERE subscriber_id IN (SELECT member FROM twin_members WHERE member <> winner);
-- One mailbox, one confirmation waiting: the twins' extra queued jobs go.
DELETE FROM confirmation_queue
WHERE status = 'queued' AND subscriber_id IN (SELECT winner FROM twin_members)
  AND id > (SELECT MIN(c.id) FROM confirmation_queue c
            WHERE c.subscriber_id = confirmation_queue.subscriber_id AND c.status IN ('queued', 'sending'));

DELETE FROM subscribers WHERE id IN (SELECT member FROM twin_members WHERE member <> winner);

CREATE UNIQUE INDEX subscribers_email_nocase ON subscribers(email COLLATE NOCASE);

DROP TABLE twin_deliveries;
DROP TABLE twin_members;
