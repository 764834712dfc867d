-- Insights per memory, memories that hold the same content, and L1 identity: shades (groups of
-- alike memories) and biographies, every version kept, owner choices recorded apart from what
-- the pipeline writes, and every change to the identity an event.

-- Title, summary, insight and keywords of one memory, written in light of the biography of the time.
-- status: done | short (too short to need the model; filled from the text) | failed (retried later)
CREATE TABLE memory_insights (
    memory_id     TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    summary       TEXT NOT NULL DEFAULT '',
    insight       TEXT NOT NULL DEFAULT '',
    keywords_json TEXT NOT NULL DEFAULT '[]',
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    model         TEXT NOT NULL DEFAULT '',
    biography_id  INTEGER,                   -- the biography version it was written in light of
    updated_at    TEXT NOT NULL
);
CREATE INDEX memory_insights_status ON memory_insights(status);

-- The same content kept twice in different forms (a note and the PDF printed from it): both
-- memories stay, the later one points at the earlier, and identity and retrieval count it once.
CREATE TABLE memory_links (
    memory_id  TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    same_as    TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    similarity REAL NOT NULL,                 -- word-shingle overlap of the two texts (0..1)
    linked_at  TEXT NOT NULL
);
CREATE INDEX memory_links_same_as ON memory_links(same_as);

-- A shade: one facet of the owner, grown from a group of alike memories.
-- state: active | merged (into merged_into) | retired (no members left)
-- privacy: the owner's mark (public | unmarked | private); the pipeline never writes it.
-- owner_edited: the owner wrote its text; the pipeline keeps that text and only refreshes evidence.
-- revision: bumped by every change of membership or owner choice; the identity job writes a
--   generated version only if the revision it read is still current (an owner's edit wins).
-- dirty: membership changed since the text was last generated.
CREATE TABLE shades (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    state        TEXT NOT NULL DEFAULT 'active',
    privacy      TEXT NOT NULL DEFAULT 'unmarked',
    owner_edited INTEGER NOT NULL DEFAULT 0,
    merged_into  INTEGER REFERENCES shades(id),
    revision     INTEGER NOT NULL DEFAULT 1,
    dirty        INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX shades_state ON shades(state);

-- Which shade each considered memory belongs to. shade_id NULL: considered, but not yet alike
-- enough to enough others to form a shade (kept in the pool and reconsidered every run).
-- pinned: placed by the owner (merge, split); the pipeline never moves it.
CREATE TABLE shade_members (
    memory_id   TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    shade_id    INTEGER REFERENCES shades(id),
    pinned      INTEGER NOT NULL DEFAULT 0,
    assigned_at TEXT NOT NULL
);
CREATE INDEX shade_members_shade ON shade_members(shade_id);

-- A deleted memory leaves its shade: the text must be written again without it.
CREATE TRIGGER shade_members_left AFTER DELETE ON shade_members WHEN old.shade_id IS NOT NULL BEGIN
    UPDATE shades SET dirty = 1, revision = revision + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
    WHERE id = old.shade_id;
END;

-- Every text a shade has had. author: pipeline | owner (model '' and author pipeline: named from
-- keywords while no language model was available).
-- confidence: low | medium | high, from the evidence (members, time span, cohesion).
-- timeline_json: [{"memory_id", "date", "title"}] of the memories the text rests on, oldest first.
CREATE TABLE shade_versions (
    shade_id           INTEGER NOT NULL REFERENCES shades(id),
    version            INTEGER NOT NULL,
    author             TEXT NOT NULL,
    name               TEXT NOT NULL,
    aspect             TEXT NOT NULL DEFAULT '',
    icon               TEXT NOT NULL DEFAULT '',
    description_third  TEXT NOT NULL DEFAULT '',
    description_second TEXT NOT NULL DEFAULT '',
    content_third      TEXT NOT NULL DEFAULT '',
    content_second     TEXT NOT NULL DEFAULT '',
    confidence         TEXT NOT NULL DEFAULT 'low',
    member_count       INTEGER NOT NULL DEFAULT 0,
    timeline_json      TEXT NOT NULL DEFAULT '[]',
    model              TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    PRIMARY KEY (shade_id, version)
);

-- Every biography written. kind: global (who the owner is) | status (what they are doing lately).
-- sources_json: what it was written from: [[shade_id, version], ...] for global (never private
-- shades), memory ids for status (never members of private shades). A newer source set means a
-- new version is due.
CREATE TABLE biographies (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    author       TEXT NOT NULL,
    text_third   TEXT NOT NULL,
    text_second  TEXT NOT NULL DEFAULT '',
    sources_json TEXT NOT NULL DEFAULT '[]',
    model        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL
);
CREATE INDEX biographies_kind ON biographies(kind, id);

-- Nothing changes silently: shades created, joined, merged, split, retired, marked and edited.
CREATE TABLE identity_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    shade_id    INTEGER,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,               -- pipeline | owner
    detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX identity_events_shade ON identity_events(shade_id, id);

-- The newest memory a model was trained on (its ingested_at; set by training, NULL for a base
-- model), so chat can bring in what the model has not learned yet.
ALTER TABLE models ADD COLUMN trained_through TEXT;
