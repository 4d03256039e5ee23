-- The rack-clock `sent_at` of the last enrollment accepted from each rack: an enrollment request not newer than
-- it is a replay from the bus, refused so it cannot revert the rack's ip, labels, config or keys.
ALTER TABLE racks ADD COLUMN last_enroll_sent_at INTEGER NOT NULL DEFAULT 0;
