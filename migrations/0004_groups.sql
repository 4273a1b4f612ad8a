-- hotline store, schema 4: call storms.

-- Incidents on one vendor line that share the asset (or site, per group_by) while the first
-- one's ladder runs or waits: one row per member, the leader included (member_id = leader_id).
-- The leader's ladder calls for all of them; the group's call stops when every member
-- resolved.
CREATE TABLE incident_groups (
    member_id TEXT PRIMARY KEY REFERENCES incidents (id),
    leader_id TEXT NOT NULL REFERENCES incidents (id),
    group_key TEXT NOT NULL,                         -- line + asset/site, as grouped
    joined_at TEXT NOT NULL
);
CREATE INDEX incident_groups_leader ON incident_groups (leader_id);

-- How long a step's call waited for room (calls per line, ladders per delivery/dialplan, the
-- dialplan's RTP share) before it was placed, and what it waited for.
ALTER TABLE ladder_steps ADD COLUMN queued_ms BIGINT;
ALTER TABLE ladder_steps ADD COLUMN queue_reason TEXT;
