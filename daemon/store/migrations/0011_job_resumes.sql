-- How many times a job was queued again after the daemon stopped while it ran: ingest, embed and
-- identity jobs resume by themselves at the next start, a few times at most.
ALTER TABLE jobs ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;
