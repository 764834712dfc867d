-- Models the owner imported (content-addressed GGUF files) and conversations with the self.

CREATE TABLE models (
    id                TEXT PRIMARY KEY,     -- first 16 hex digits of the file's SHA-256
    sha256            TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL,        -- chat | whisper
    architecture      TEXT NOT NULL,
    parameter_count   INTEGER NOT NULL,
    context_length    INTEGER NOT NULL,
    quantization      TEXT NOT NULL,
    has_chat_template INTEGER NOT NULL,
    chat_template     TEXT NOT NULL DEFAULT '',  -- supplied when the file has none (e.g. Gemma base models)
    size_bytes        INTEGER NOT NULL,
    source            TEXT NOT NULL,
    imported_at       TEXT NOT NULL
);

-- One row: which model serves chat now, and which served before (for `activate --previous`).
CREATE TABLE model_state (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    active_id   TEXT REFERENCES models(id),
    previous_id TEXT REFERENCES models(id)
);
INSERT INTO model_state(singleton, active_id, previous_id) VALUES (1, NULL, NULL);

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL,          -- user | assistant
    content         TEXT NOT NULL,
    model_id        TEXT,
    created_at      TEXT NOT NULL,
    cited_json      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
