-- The mesh address book: peers this node has met, where to find them, their last card,
-- and the owner's blocklist (kept here so it survives restarts).
CREATE TABLE peers (
    peer_id         TEXT PRIMARY KEY,
    addresses_json  TEXT NOT NULL DEFAULT '[]',  -- multiaddrs without /p2p, newest first
    last_seen       TEXT,                        -- when a connection was last made
    card            BLOB,                        -- serialized secondme.v1.Card
    card_fetched_at TEXT,
    blocked         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
);
CREATE INDEX peers_last_seen ON peers(last_seen);
