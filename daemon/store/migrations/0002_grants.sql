-- Permission grants: the grants this node issued and received, revocations, session usage.

-- The envelope (payload + signature) is the grant; the other columns are copies of payload
-- fields kept for listing and filtering without decoding every row.
CREATE TABLE grants (
    id          TEXT PRIMARY KEY,           -- 32 hex digits (16 random bytes)
    direction   TEXT NOT NULL CHECK (direction IN ('issued', 'received')),
    issuer      TEXT NOT NULL,              -- peer ID
    audience    TEXT NOT NULL,              -- peer ID
    expires     TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX grants_direction ON grants(direction, recorded_at);

-- Revocations are not tied to the grants table: a grant restored from an old backup, or never
-- recorded, is still revoked by id.
CREATE TABLE grant_revocations (
    grant_id   TEXT PRIMARY KEY,            -- 32 hex digits
    revoked_at TEXT NOT NULL
);

-- Sessions opened per grant per UTC day, for the max-sessions-per-day limit.
CREATE TABLE grant_usage (
    grant_id TEXT NOT NULL,
    day      TEXT NOT NULL,                 -- YYYY-MM-DD (UTC)
    sessions INTEGER NOT NULL,
    PRIMARY KEY (grant_id, day)
);
