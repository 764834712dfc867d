-- Grounded identity, the capability check of each model, and eval runs.

-- The capability check a model passed or failed (pipeline/probe.py), once per model and probe
-- version. model_key: a local model's id, or "endpoint:<base url>#<model>" for the configured
-- OpenAI-compatible endpoint. status: passed | failed | unchecked (could not be reached).
CREATE TABLE model_probes (
    model_key   TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    result_json TEXT NOT NULL,
    version     INTEGER NOT NULL,
    probed_at   TEXT NOT NULL
);

-- Every statement the identity keeps about the owner, sentence by sentence, with the memories it
-- rests on: [{"field", "text", "memory_ids"}]. The text columns hold the same sentences joined.
ALTER TABLE shade_versions ADD COLUMN sentences_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE biographies ADD COLUMN sentences_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE memory_insights ADD COLUMN sentences_json TEXT NOT NULL DEFAULT '[]';
-- How a text was made: extractive (the owner's own sentences) | generative (a model's, checked).
ALTER TABLE shade_versions ADD COLUMN mode TEXT NOT NULL DEFAULT '';
ALTER TABLE biographies ADD COLUMN mode TEXT NOT NULL DEFAULT '';

-- `secondmectl eval` runs: one model version (model_key as above), one questions file, with or
-- without retrieval; report_json is pipeline.evaluation's EvalReport.
CREATE TABLE eval_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    model_key        TEXT NOT NULL,
    model_name       TEXT NOT NULL,
    questions_source TEXT NOT NULL,
    retrieval        INTEGER NOT NULL,
    report_json      TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX eval_runs_model ON eval_runs(model_key, id);
