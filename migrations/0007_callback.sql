-- hotline store, schema 7: vendor callbacks (issue 11).
--
-- Same rules as schema 1: SQL both SQLite and PostgreSQL read.

-- Who placed the call: 'outbound' (a ladder step, an operator's phone) or 'inbound' (a
-- vendor calling the callback line). The response clock starts at the first answered
-- outbound call of an incident.
ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'outbound';

-- The vendor's response to an incident: the first answered callback tied to it, or a
-- response an operator recorded that came another way (portal, e-mail) with a note.
ALTER TABLE incidents ADD COLUMN responded_at TEXT;
ALTER TABLE incidents ADD COLUMN response_note TEXT;
ALTER TABLE incidents ADD COLUMN response_by TEXT;
