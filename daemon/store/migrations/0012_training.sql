-- Model versions trained here: a LoRA adapter served on its base model's file (or a merged model),
-- linked to the training data it was made from, and the memories it learned.

-- The model an adapter is applied to (NULL for a standalone model); `adapter` = 1 when the file is
-- a GGUF LoRA adapter rather than a model.
ALTER TABLE models ADD COLUMN base_id TEXT REFERENCES models(id);
ALTER TABLE models ADD COLUMN adapter INTEGER NOT NULL DEFAULT 0;
-- The training dataset version (training/datasets/<version>) and the job that trained it.
ALTER TABLE models ADD COLUMN dataset_version TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN trained_by_job TEXT NOT NULL DEFAULT '';

-- Every memory a model version was trained on. Rows stay when the memory is deleted: the weights
-- have seen it, and `models show` says so until a version trained without it is active.
CREATE TABLE model_training_memories (
    model_id  TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    memory_id TEXT NOT NULL,
    PRIMARY KEY (model_id, memory_id)
);
CREATE INDEX model_training_memories_memory ON model_training_memories(memory_id);
