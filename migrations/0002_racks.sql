-- Racks known to this mixer: one row per rack identity key, created at enrollment.
-- Times are milliseconds since the epoch (mixer clock); keys are raw 32-byte public keys, base64url.
CREATE TABLE IF NOT EXISTS racks (
  id TEXT PRIMARY KEY,                      -- UUID v7 assigned at first enrollment
  name TEXT NOT NULL UNIQUE,                -- base.name: bound to one identity key
  identity_key TEXT NOT NULL UNIQUE,        -- Ed25519: signs enrollments and heartbeats
  key_fingerprint TEXT NOT NULL,            -- SHA256:<hex> of identity_key, for operators
  sealing_key TEXT NOT NULL,                -- X25519: secrets in the passport are sealed to it
  ip TEXT NOT NULL,
  version TEXT NOT NULL,                    -- agent version
  labels TEXT NOT NULL DEFAULT '{}',        -- JSON object of strings
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'revoked')),
  config TEXT NOT NULL DEFAULT '{}',        -- JSON: the rack's non-secret settings, echoed in its passport
  secrets BLOB,                             -- CBOR map name -> sealed secret (ciphertext only)
  passport BLOB,                            -- the latest signed passport
  passport_issued_at INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  status_changed_at INTEGER NOT NULL,
  heartbeat_interval_ms INTEGER NOT NULL,
  last_heartbeat TEXT,                      -- JSON: uptime and counters of the last heartbeat
  last_heartbeat_sent_at INTEGER NOT NULL DEFAULT 0  -- rack clock; older heartbeats are ignored
);
CREATE INDEX IF NOT EXISTS racks_status ON racks (status);
