-- hotline store, schema 1.
--
-- Kept to SQL that SQLite and PostgreSQL both read: TEXT and BIGINT columns, no
-- AUTOINCREMENT, partial unique indexes, ON CONFLICT. Times are RFC 3339 UTC text with
-- microseconds and a `Z` (fixed width, so text order is time order); flags are 0/1.

-- One incident: a fingerprint while it fires, then resolved.
CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,              -- inc_ + time-ordered base32
    source            TEXT NOT NULL,                 -- alertmanager, grafana, ...
    fingerprint       TEXT NOT NULL,
    status            TEXT NOT NULL,                 -- firing | resolved
    severity          TEXT NOT NULL,                 -- info | warning | major | critical
    dialplan          TEXT,                          -- set once routed
    route             TEXT,                          -- routed | unrouted, NULL until decided
    incident_json     TEXT NOT NULL,                 -- the Incident of the latest delivery
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    resolved_at       TEXT,
    resolution_reason TEXT,
    ladder_state      TEXT NOT NULL,                 -- pending | running | done | exhausted
                                                     -- | interrupted | stopped
    ladder_reason     TEXT,                          -- why the ladder is in that state
    vendor_case       TEXT,                          -- owner fields, for a later feature
    engineer_name     TEXT
);
-- At most one firing incident per fingerprint: the idempotency guarantee lives in the
-- schema, so it holds whatever connection or process writes.
CREATE UNIQUE INDEX incidents_firing_fingerprint ON incidents (fingerprint)
    WHERE status = 'firing';
CREATE INDEX incidents_status_id ON incidents (status, id);
CREATE INDEX incidents_source_id ON incidents (source, id);
CREATE INDEX incidents_ladder_state ON incidents (ladder_state);

-- Every webhook delivery that joined or opened an incident, for idempotency audits.
CREATE TABLE deliveries (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,                     -- 1, 2, ... per incident
    received_at TEXT NOT NULL,
    source      TEXT NOT NULL,
    raw_size    BIGINT NOT NULL,                     -- body bytes as received
    created     BIGINT NOT NULL,                     -- 1 if this delivery opened the incident
    PRIMARY KEY (incident_id, seq)
);

-- One outbound call; the row is rewritten at start, at each stage and at the end.
CREATE TABLE calls (
    call_id           TEXT PRIMARY KEY,              -- the SIP Call-ID
    incident_id       TEXT REFERENCES incidents (id),
    dialplan          TEXT NOT NULL,
    contact           TEXT NOT NULL,
    uri               TEXT NOT NULL,
    result            TEXT,                          -- termination outcome, NULL while live
    code              BIGINT,                        -- deciding SIP status code
    reason            TEXT,                          -- termination reason
    started_at        TEXT,                          -- INVITE sent
    answered_at       TEXT,
    ended_at          TEXT,
    time_to_answer_ms BIGINT,
    sla_met           BIGINT,                        -- NULL while ringing
    recording_path    TEXT NOT NULL,
    record_json       TEXT NOT NULL,                 -- the CallRecord as serialized
    interrupted       BIGINT NOT NULL DEFAULT 0,     -- hotline stopped during the call
    updated_at        TEXT NOT NULL
);
CREATE INDEX calls_incident ON calls (incident_id);
CREATE INDEX calls_open ON calls (ended_at, interrupted);

-- The call timeline as rows, for queries across calls.
CREATE TABLE call_events (
    call_id    TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,                      -- position in the timeline, from 0
    at         TEXT NOT NULL,
    offset_ms  DOUBLE PRECISION NOT NULL,            -- since the INVITE left
    kind       TEXT NOT NULL,
    event_json TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

-- The escalation ladder's steps, one per contact attempt.
CREATE TABLE ladder_steps (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,                     -- 1, 2, ... per incident
    contact     TEXT NOT NULL,
    attempt     BIGINT NOT NULL,                     -- 1-based, per contact
    started_at  TEXT NOT NULL,
    outcome     TEXT,                                -- NULL while the step runs
    reason      TEXT,
    call_id     TEXT,                                -- the call placed, if one was
    ended_at    TEXT,
    PRIMARY KEY (incident_id, seq)
);

-- The WAV of a call.
CREATE TABLE recordings (
    call_id    TEXT PRIMARY KEY REFERENCES calls (call_id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    sha256     TEXT,                                 -- hex, once the file is final
    final      BIGINT NOT NULL,                      -- 1 once the writer closed it
    updated_at TEXT NOT NULL
);

-- Fallback P0 ticket POSTs when no call got through.
CREATE TABLE tickets (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,                     -- 1, 2, ... per incident
    url         TEXT NOT NULL,
    attempt     BIGINT NOT NULL,
    status_code BIGINT,                              -- NULL if no response came
    response    TEXT,                                -- the first bytes of the body or the error
    at          TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
