-- Mail that comes back: replies and bounce or complaint reports, with what
-- links them to patrons and notices.

CREATE INDEX patrons_by_email ON patrons (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX notices_by_message_id ON notices (message_id) WHERE message_id IS NOT NULL;

CREATE TABLE replies (
    reply_id    TEXT PRIMARY KEY,       -- digest of the received file
    received_at TEXT NOT NULL,          -- RFC 3339, UTC
    class       TEXT NOT NULL,          -- reply | auto_reply | delivery_report | spam | virus | unreadable
    patron_id   TEXT,
    notice_id   TEXT,
    linked_by   TEXT,                   -- message_id | reference | sender
    source      TEXT NOT NULL,          -- where the raw mail is
    forwarded   TEXT                    -- the forward's message id, once sent
) WITHOUT ROWID;
CREATE INDEX replies_by_patron ON replies (patron_id, received_at);

CREATE TABLE feedback (
    feedback_id TEXT PRIMARY KEY,       -- event id, recipient, patron
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,          -- hard_bounce | soft_bounce | complaint
    patron_id   TEXT,
    notice_id   TEXT
) WITHOUT ROWID;
CREATE INDEX feedback_by_patron ON feedback (patron_id, at);
