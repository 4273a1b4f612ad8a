-- hotline store, schema 3: what a restart needs to finish what a stop cut short.

-- The SIP dialog of an answered call: enough to send its BYE from another process (the next
-- start after a crash, or another replica). Written when the call is answered, closed when
-- its task ends; an open row after a restart is an orphaned call still up at the far end.
CREATE TABLE dialogs (
    call_id       TEXT PRIMARY KEY,                  -- the SIP Call-ID
    local_tag     TEXT NOT NULL,                     -- our From tag
    remote_tag    TEXT NOT NULL,                     -- their To tag
    local_uri     TEXT NOT NULL,                     -- From URI
    remote_uri    TEXT NOT NULL,                     -- To URI (the dialled URI)
    remote_target TEXT,                              -- their Contact: the BYE's Request-URI
    route_set     TEXT NOT NULL,                     -- JSON array of Route values, in order
    next_cseq     BIGINT NOT NULL,                   -- our next CSeq in this dialog
    transport     TEXT NOT NULL,                     -- UDP | TCP
    destination   TEXT NOT NULL,                     -- ip:port the BYE is sent to
    answered_at   TEXT NOT NULL,
    closed_at     TEXT,                              -- NULL while the call may be up
    closed_reason TEXT                               -- "call ended", "BYE answered 200", ...
);
CREATE INDEX dialogs_open ON dialogs (closed_at);

-- A step whose call a stop cut short (crash, or the drain time of a graceful stop ran out):
-- the next start applies [ladder] after_restart to its contact.
ALTER TABLE ladder_steps ADD COLUMN interrupted BIGINT NOT NULL DEFAULT 0;
