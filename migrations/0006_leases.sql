-- hotline store, schema 6: several replicas on one database (PostgreSQL).
--
-- Same rules as schema 1: SQL both SQLite and PostgreSQL read.

-- Which replica works an incident's ladder: claimed when the ladder starts, renewed by the
-- owner's heartbeat, taken over by another replica once expired. `fence` grows by one at
-- every claim; the ladder's writes carry the fence they were claimed with and are refused
-- once another replica holds a newer one. Times are the database's clock (milliseconds
-- since the epoch), so replicas' clocks need not agree.
CREATE TABLE leases (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    owner       TEXT NOT NULL,                       -- replica name: host-pid-random
    fence       BIGINT NOT NULL,                     -- 1, 2, ... per incident
    claimed_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
CREATE INDEX leases_expiry ON leases (expires_ms);
CREATE INDEX leases_owner ON leases (owner);

-- Where an attempt stands: 'dialing' is written (committed) before the INVITE leaves, so a
-- replica's death leaves a row another replica marks 'interrupted'; 'ended' once it ended.
-- NULL: written before schema 6. `fence`: the lease the step was written under.
ALTER TABLE ladder_steps ADD COLUMN state TEXT;
ALTER TABLE ladder_steps ADD COLUMN fence BIGINT;
