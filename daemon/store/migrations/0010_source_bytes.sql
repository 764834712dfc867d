-- A file's path exactly as the OS has it: a name need not be UTF-8. `source` shows it as text
-- (with \xNN for the bytes that are not); rows from before, and URLs and uploads, have NULL here.
ALTER TABLE memories ADD COLUMN source_bytes BLOB;
