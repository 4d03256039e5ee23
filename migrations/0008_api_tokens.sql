-- Scoped API tokens (read < operate < admin). The token itself is never stored: only the SHA-256 of it, found
-- by its public id (the part between "fxr_" and the next "_"), so a stolen registry cannot call the API.
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,                      -- public lookup id, part of the token
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
  token_hash TEXT NOT NULL,                 -- hex SHA-256 of the whole token
  created_at INTEGER NOT NULL,              -- epoch ms
  last_used_at INTEGER,                     -- epoch ms, moved at most once a minute
  expires_at INTEGER,                       -- epoch ms; NULL never expires
  revoked_at INTEGER                        -- epoch ms; kept for the record, never un-revoked
);
-- One live token per name; a revoked one keeps its row and frees the name for a successor.
CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;
