-- The address book keeps only peers the owner chose: dialled (`peers connect`), blocked, looked
-- at (`peers card`), or granted (an issued grant names them). dialled_at records the first of
-- these: when the owner last dialled the peer; the daemon redials such peers after a restart.
-- Rows written before this migration have no dialled_at: they are kept but no longer redialled
-- unless the owner granted the peer or dials it again (they may be strangers who dialled us).
ALTER TABLE peers ADD COLUMN dialled_at TEXT;
