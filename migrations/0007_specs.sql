-- fluxSpecs imported through the API: one row per id and version, as written and in normal form.
CREATE TABLE IF NOT EXISTS specs (
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  hash TEXT NOT NULL,                       -- SHA-256 of the normal form
  description TEXT NOT NULL DEFAULT '',
  yaml TEXT NOT NULL,                       -- the file as imported
  normal TEXT NOT NULL,                     -- JSON: the validated normal form pushed to racks
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (id, version)
);
