-- Scenarios imported through the API: one row per name and version, as written and in normal form.
CREATE TABLE IF NOT EXISTS scenarios (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  hash TEXT NOT NULL,                       -- SHA-256 of the normal form: what racks report they run
  description TEXT NOT NULL DEFAULT '',
  yaml TEXT NOT NULL,                       -- the file as imported
  normal TEXT NOT NULL,                     -- JSON: the validated normal form parts are cut from
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);

-- Each activation: which version, when, and the racks it targeted (JSON array of {id, alias}).
CREATE TABLE IF NOT EXISTS scenario_activations (
  id TEXT PRIMARY KEY,                      -- UUID v7
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  hash TEXT NOT NULL,
  activated_at INTEGER NOT NULL,
  targets TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scenario_activations_name ON scenario_activations (name, activated_at);

-- What each rack is assigned (a signed part, delivered on flux.ctl.scenario.<id>) and what it reports running.
ALTER TABLE racks ADD COLUMN scenario_name TEXT;
ALTER TABLE racks ADD COLUMN scenario_hash TEXT;
ALTER TABLE racks ADD COLUMN scenario_part BLOB;
ALTER TABLE racks ADD COLUMN scenario_assigned_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE racks ADD COLUMN scenario_reported_hash TEXT;
ALTER TABLE racks ADD COLUMN scenario_state TEXT;           -- running | refused | starting
ALTER TABLE racks ADD COLUMN scenario_error TEXT;
