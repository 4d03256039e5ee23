-- The boot stamp of the last heartbeat accepted from each rack (a number that grows at every start of the rack,
-- kept in its state dir). Heartbeats are ordered by (boot, sent_at): a restarted rack starts a new sequence
-- whatever its clock says, while a heartbeat from an earlier boot, or an older one of the same boot, is refused.
ALTER TABLE racks ADD COLUMN last_heartbeat_boot INTEGER NOT NULL DEFAULT 0;
