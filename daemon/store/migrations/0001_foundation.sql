-- Foundation: stored originals, memories and their chunks, memory events, jobs.

-- Small originals live inline (one transaction with their memory, no file per note); large ones
-- (PDFs, audio) are files under originals/ named by hash, and `data` is NULL.
CREATE TABLE originals (
    hash        TEXT PRIMARY KEY,           -- SHA-256 hex of the original bytes
    size_bytes  INTEGER NOT NULL,
    stored_at   TEXT NOT NULL,
    data        BLOB
);

CREATE TABLE memories (
    id            TEXT PRIMARY KEY,
    content_hash  TEXT NOT NULL UNIQUE REFERENCES originals(hash),
    source_type   TEXT NOT NULL,
    source        TEXT NOT NULL,            -- path or URL it was ingested from
    title         TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,            -- the memory's own date (content, front matter, or mtime)
    ingested_at   TEXT NOT NULL,
    parse_status  TEXT NOT NULL,
    parse_detail  TEXT NOT NULL DEFAULT '',
    metadata_json TEXT NOT NULL DEFAULT '{}',
    text          TEXT NOT NULL,
    job_id        TEXT
);
CREATE INDEX memories_created_at ON memories(created_at);
CREATE INDEX memories_source_type ON memories(source_type);

CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id   TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    text        TEXT NOT NULL,
    token_count INTEGER NOT NULL,
    start_char  INTEGER NOT NULL,
    end_char    INTEGER NOT NULL,
    UNIQUE (memory_id, idx)
);

-- Lexical search over chunks (hybrid retrieval fuses it with embeddings).
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id');
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Nothing changes silently: every creation and deletion of a memory is an event.
CREATE TABLE memory_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    action      TEXT NOT NULL,              -- created | deleted
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX memory_events_memory ON memory_events(memory_id);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,             -- queued | running | succeeded | failed | cancelled | interrupted
    params_json  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    stage        TEXT NOT NULL DEFAULT '',
    done         INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    message      TEXT NOT NULL DEFAULT '',
    progress_at  TEXT,
    result_json  TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    retry_of     TEXT REFERENCES jobs(id)
);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_created_at ON jobs(created_at);

CREATE TABLE job_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id   TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    stage    TEXT NOT NULL,
    done     INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, id);
