-- Relance embedded store. Mirrors the DynamoDB design: open loans are found by
-- local due date through a partial index that only open loans carry.

CREATE TABLE patrons (
    patron_id        TEXT PRIMARY KEY,
    full_name        TEXT NOT NULL,
    email            TEXT,              -- NULL: none, or malformed in the export
    email_status     TEXT NOT NULL DEFAULT 'deliverable',
    address_line1    TEXT NOT NULL DEFAULT '',
    address_line2    TEXT NOT NULL DEFAULT '',
    postcode         TEXT NOT NULL DEFAULT '',
    city             TEXT NOT NULL DEFAULT '',
    country          TEXT NOT NULL DEFAULT '',
    language         TEXT,              -- NULL: the institution's default
    courtesy_opt_out INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE loans (
    loan_id      TEXT PRIMARY KEY,
    patron_id    TEXT NOT NULL,
    library_code TEXT NOT NULL,
    barcode      TEXT NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL DEFAULT '',
    call_number  TEXT NOT NULL DEFAULT '',
    loaned_at    TEXT,                  -- RFC 3339, UTC
    due_at       TEXT NOT NULL,         -- RFC 3339, UTC
    due_date     TEXT NOT NULL,         -- local calendar date, YYYY-MM-DD
    returned_at  TEXT,                  -- NULL while open
    import_batch INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX loans_open_by_due_date ON loans (due_date) WHERE returned_at IS NULL;
CREATE INDEX loans_open_by_patron ON loans (patron_id) WHERE returned_at IS NULL;

CREATE TABLE watermark (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    day TEXT NOT NULL
);

CREATE TABLE notices (
    notice_id     TEXT PRIMARY KEY,
    reference     TEXT NOT NULL UNIQUE,
    run_day       TEXT NOT NULL,
    patron_id     TEXT NOT NULL,
    channel       TEXT NOT NULL,        -- email | letter
    stage         TEXT NOT NULL,
    library_code  TEXT,                 -- letters only
    status        TEXT NOT NULL,        -- pending | sent | cancelled
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    message_id    TEXT,
    sent_at       TEXT,
    cancel_reason TEXT
) WITHOUT ROWID;
CREATE INDEX notices_pending ON notices (channel, run_day) WHERE status = 'pending';
CREATE INDEX notices_by_patron ON notices (patron_id, run_day);

CREATE TABLE notice_loans (
    notice_id TEXT NOT NULL,
    loan_id   TEXT NOT NULL,
    due_date  TEXT NOT NULL,
    stage     TEXT NOT NULL,
    PRIMARY KEY (notice_id, loan_id, stage)
) WITHOUT ROWID;

-- One row per (loan, due date, stage) handled: what makes each handled once.
CREATE TABLE markers (
    loan_id   TEXT NOT NULL,
    due_date  TEXT NOT NULL,
    stage     TEXT NOT NULL,
    run_day   TEXT NOT NULL,
    notice_id TEXT,                     -- NULL when skipped
    skipped   TEXT,                     -- why, when skipped
    PRIMARY KEY (loan_id, due_date, stage)
) WITHOUT ROWID;

CREATE TABLE runs (
    id       INTEGER PRIMARY KEY,
    run_day  TEXT NOT NULL,
    summary  TEXT NOT NULL              -- the run's JSON summary
);

CREATE TABLE imports (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    summary  TEXT NOT NULL              -- the import's JSON summary
);
