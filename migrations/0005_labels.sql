-- hotline store, schema 5: ground truth from the operators on the bridge.
--
-- Same rules as schema 1: SQL both SQLite and PostgreSQL read; times are fixed-width RFC 3339.

-- "a person is here" / "still a machine", given from a join page during a call. Each label is
-- also a chain entry (kind = 'call_label', subject = call id, payload {label, by}); the row
-- names its entry, and `hotline verify` holds the two to each other. Labels are only added:
-- a later label stands beside an earlier one, never over it.
CREATE TABLE call_labels (
    chain_seq BIGINT PRIMARY KEY,                    -- the audit_chain entry of this label
    call_id   TEXT NOT NULL,
    at        TEXT NOT NULL,
    label     TEXT NOT NULL,                         -- person | machine
    given_by  TEXT NOT NULL                          -- "bridge L1 (Ada)"
);
CREATE INDEX call_labels_call ON call_labels (call_id);
