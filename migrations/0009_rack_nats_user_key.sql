-- The rack's own NATS user nkey (public, "U..."), sent at enrollment: the mixer issues the rack's bus JWTs for
-- it and, when the rack is revoked, revokes it in the account JWT it pushes to nats-server. Empty for racks
-- that enrolled before the bus ran in operator mode (they get no JWT until they enroll again).
ALTER TABLE racks ADD COLUMN nats_user_key TEXT NOT NULL DEFAULT '';
