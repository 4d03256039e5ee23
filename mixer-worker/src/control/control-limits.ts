import type { ControlLaneLimits } from "./control-lane.ts";

/*
 * The control plane's bounds. The mixer config has no keys for them: they protect the bridge (one Durable
 * Object, one isolate of 128 MB, one NATS connection) from whatever arrives on `flux.ctl.*`, and an honest
 * fleet stays far inside them. Worst-case memory, whatever arrives: 2 MiB queued per lane, and about 3 MB of
 * rate-limit buckets (keys are cut to 128 and about 300 characters).
 */

/**
 * `flux.ctl.enroll`. A real request is 1–4 KiB (claims, the rack's non-secret settings, its sealed secrets);
 * 64 KiB leaves room for many secrets. Enrollment is rare and the costliest message (signature checks,
 * several D1 queries, a passport signed), so few wait and two are worked at once. The rate is per presented
 * identity key and name: an honest rack retries once per `snake.reconnect_wait` (1 s by default) while it is
 * told "busy", which this keeps up with; a replayed request is held to one a second.
 */
export const ENROLL_LANE: ControlLaneLimits = {
  capacity: 64,
  grant: 32,
  queueBytes: 2 * 1024 * 1024,
  maxMessageBytes: 64 * 1024,
  concurrency: 2,
  rate: { burst: 5, perSecond: 1 },
  rateKeys: 1_024,
};

/**
 * `flux.ctl.heartbeat.<rack_id>`. A real heartbeat is under 1 KiB. 1,024 waiting is a few seconds of work
 * against local D1, and a rack whose heartbeat is shed is only seen one interval later. The rate is per rack
 * id (the subject), sized from the shortest `rack.heartbeat_interval` allowed (100 ms: 10 a second), so no
 * honest rack is ever limited, with a burst for the extra beats a rack sends at start and after each
 * passport it receives. 10,000 racks keep their own buckets; past that some start afresh (never stricter).
 */
export const HEARTBEAT_LANE: ControlLaneLimits = {
  capacity: 1_024,
  grant: 512,
  queueBytes: 2 * 1024 * 1024,
  maxMessageBytes: 16 * 1024,
  concurrency: 4,
  rate: { burst: 20, perSecond: 10 },
  rateKeys: 10_000,
};
