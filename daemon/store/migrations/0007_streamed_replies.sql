-- A chat reply is written while it streams; `complete` is set once the model finished it, so a reply
-- cut off by the owner or by the daemon's end is kept as far as it got and known to be cut off.
ALTER TABLE messages ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
