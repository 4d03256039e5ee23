-- The mixer's own identity: a UUID v7 made on first boot and kept for the life of the registry.
CREATE TABLE IF NOT EXISTS mixer_identity (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
