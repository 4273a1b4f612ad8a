-- hotline store, schema 2: the auditor console.
--
-- Same rules as schema 1: SQL both SQLite and PostgreSQL read; times are fixed-width RFC 3339.

-- What was said to the vendor, and the post-incident knowledge base (searchable).
ALTER TABLE incidents ADD COLUMN briefing_text TEXT;
ALTER TABLE incidents ADD COLUMN notes TEXT;

-- Every console and API request by a person (or a script with a person's token).
CREATE TABLE access_log (
    seq        BIGINT PRIMARY KEY,                   -- 1, 2, ...
    at         TEXT NOT NULL,
    token_name TEXT NOT NULL,                        -- [[http.tokens]] name, or "api_token"
    role       TEXT NOT NULL,                        -- admin | operator | auditor | webhook
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,                        -- with the query string
    status     BIGINT NOT NULL                       -- the answer's HTTP status
);
CREATE INDEX access_log_at ON access_log (at);

-- The integrity proof: an append-only hash chain. Each entry commits to the one before it:
-- hash = SHA-256(prev_hash "\n" seq "\n" at "\n" kind "\n" subject "\n" payload), hex.
-- kind = 'call': a sealed call (payload: SHA-256 of its WAV, sidecar and stored record);
-- kind = 'incident_edit': a notes or ownership edit (payload: field, value, who).
CREATE TABLE audit_chain (
    seq       BIGINT PRIMARY KEY,                    -- 1, 2, ... without gaps
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,                         -- call id or incident id
    payload   TEXT NOT NULL,                         -- JSON, hashed as stored
    prev_hash TEXT NOT NULL,                         -- 64 zeros for the first entry
    hash      TEXT NOT NULL
);
CREATE INDEX audit_chain_subject ON audit_chain (subject);

-- Waveform peaks of a recording, computed once (keyed by the file's size).
CREATE TABLE waveform_peaks (
    call_id TEXT PRIMARY KEY,
    bytes   BIGINT NOT NULL,
    peaks   TEXT NOT NULL                            -- JSON {"duration_ms", "left", "right"}
);
