-- `revision` grows with every change a passport states (status, enrollment, secrets). A read-modify-write of a
-- row (a secret PUT) and a passport signed from a read both write only `WHERE revision = ?` the one they read,
-- so a change made meanwhile is never overwritten, nor outlived by a passport that misses it. (`version` was
-- taken: it holds the agent version.)
ALTER TABLE racks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- The secrets a rack sealed to itself, as its last enrollment gave them; `secrets` now holds only those set on
-- the mixer, which win under the same name, and which an enrollment never rewrites.
ALTER TABLE racks ADD COLUMN rack_secrets BLOB;
