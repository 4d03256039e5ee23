import { readFile } from "node:fs/promises";
import { get } from "node:http";
import { join } from "node:path";
import { createInbox, type NatsConnection } from "@nats-io/nats-core";
import { uuidv7 } from "uuidv7";
import type { ControlLaneStats } from "../../mixer-worker/src/control/control-lane.ts";
import type { ControlStats } from "../../mixer-worker/src/control/control-plane.ts";
import { ENROLL_VERSION, type EnrollRequest } from "../../shared/control/enrollment.ts";
import type { Heartbeat } from "../../shared/control/heartbeat.ts";
import { cbor } from "../../shared/fluxmsg/cbor.ts";
import { ENROLL_SUBJECT, heartbeatSubject } from "../../shared/fluxmsg/subjects.ts";

/** One message of a flood on the control plane. */
export interface FloodMessage {
  subject: string;
  data: Uint8Array;
  /** Enrollments ask for a reply, as a rack's request does. */
  request: boolean;
}

/** An envelope of the right shape around `payload`, signed by no one (64 zero bytes). */
const unsigned = (payload: unknown) =>
  cbor.encode({ payload: cbor.encode(payload), signature: new Uint8Array(64) });
const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length));

function heartbeat(rackId: string): Heartbeat {
  const now = Date.now();
  return {
    rack_id: rackId,
    boot: 1,
    sent_at: now,
    uptime_ms: 1_000,
    interval_ms: 30_000,
    passport_issued_at: now,
    gears: "running",
    counters: { heartbeats_sent: 1 },
  };
}

function enrollRequest(name: string): EnrollRequest {
  return {
    version: ENROLL_VERSION,
    sent_at: Date.now(),
    name,
    ip: "10.9.9.9",
    agent_version: "0.1.0",
    identity_key: randomBytes(32),
    sealing_key: randomBytes(32),
    token_proof: randomBytes(32),
    labels: {},
    heartbeat_interval_ms: 30_000,
    config: {},
    secrets: {},
  };
}

/**
 * `count` control-plane messages as a misbehaving or hostile client would send them, two heartbeats for
 * each enrollment: heartbeats on thousands of rack ids, and a few hundred on one id; enrollments of many
 * keys, and many of one request replayed; in each kind a mix of garbage bytes, well-formed envelopes
 * signed by no one, and every 500th message larger than any real one (128 KiB).
 *
 * @example const messages = controlFlood(60_000);
 */
export function controlFlood(count: number): FloodMessage[] {
  const replayed = unsigned(enrollRequest("flood-replayed"));
  const hotRack = uuidv7();
  const oversize = new Uint8Array(128 * 1024).fill(0xa5);
  const messages: FloodMessage[] = [];
  for (let i = 0; i < count; i++) {
    const enroll = i % 3 === 2;
    const variant = i % 500 === 0 ? "oversize" : (i >> 2) % 2 === 0 ? "unsigned" : "garbage";
    if (enroll) {
      const data =
        variant === "oversize"
          ? oversize
          : variant === "garbage"
            ? randomBytes(200)
            : i % 7 === 0
              ? replayed
              : unsigned(enrollRequest(`flood-${i}`));
      messages.push({ subject: ENROLL_SUBJECT, data, request: true });
    } else {
      const rackId = i % 50 === 1 ? hotRack : uuidv7();
      const data =
        variant === "oversize"
          ? oversize
          : variant === "garbage"
            ? randomBytes(150)
            : unsigned(heartbeat(rackId));
      messages.push({ subject: heartbeatSubject(rackId), data, request: false });
    }
  }
  return messages;
}

/** What came back to the flood's enrollments: NATS 503 status replies ("mixer busy") and mixer replies. */
export interface FloodReplies {
  busy: number;
  answered: number;
}

const PUBLISH_CHUNK = 500;

/**
 * Publishes `messages` as fast as the connection takes them (enrollments with a reply inbox, as a request
 * would have) and flushes. Resolves with how long that took and a live count of the replies.
 *
 * @example const { ms, replies } = await publishFlood(nc, controlFlood(60_000));
 */
export async function publishFlood(
  nc: NatsConnection,
  messages: FloodMessage[],
): Promise<{ ms: number; replies: FloodReplies }> {
  const inbox = createInbox();
  const replies: FloodReplies = { busy: 0, answered: 0 };
  nc.subscribe(`${inbox}.*`, {
    callback: (_error, msg) => {
      if (msg.headers?.code === 503) replies.busy++;
      else replies.answered++;
    },
  });
  const started = performance.now();
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as FloodMessage;
    nc.publish(m.subject, m.data, m.request ? { reply: `${inbox}.${i}` } : {});
    // Lets this process's other work (the /health poll timing the mixer) run: one long loop would stall it
    // and the poll would time this process instead of the mixer.
    if (i % PUBLISH_CHUNK === PUBLISH_CHUNK - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  await nc.flush();
  return { ms: performance.now() - started, replies };
}

/**
 * The monitoring URL (`/varz`, `/connz`) of the local mixer's nats-server, read from its log: the local
 * mixer starts it on a random monitoring port and does not otherwise say which.
 */
export async function natsMonitoringUrl(storeDir: string): Promise<string> {
  const log = await readFile(join(storeDir, "nats", "nats.log"), "utf8");
  const address = /Starting http monitor on (\S+)/.exec(log)?.[1];
  if (!address) throw new Error(`no "Starting http monitor" line in ${storeDir}/nats/nats.log`);
  return `http://${address}`;
}

/** nats-server's count of slow consumers it has cut off since it started (`/varz` `slow_consumers`). */
export async function slowConsumers(monitoringUrl: string): Promise<number> {
  const varz = (await (
    await fetch(`${monitoringUrl}/varz`, { signal: AbortSignal.timeout(5_000) })
  ).json()) as {
    slow_consumers: number;
  };
  return varz.slow_consumers;
}

/** One `GET /health`, timed: what the flood test and bench poll. */
export interface TimedHealth {
  ms: number;
  body: HealthBody | undefined;
  error?: string;
}

/** The parts of `/health` the flood looks at. */
export interface HealthBody {
  nats: { connected: boolean };
  control: ControlStats | null;
}

/**
 * Times one `GET /health` on a connection of its own; a failure (timeout, refused) is kept as `error`, with no
 * body. Not fetch: its pooled keep-alive connection can be closed by the server while idle and fail the next
 * request ("other side closed") when this process is slow to notice, which is not the mixer failing.
 */
export function timedHealth(apiUrl: string, timeoutMs = 20_000): Promise<TimedHealth> {
  const started = performance.now();
  const took = () => performance.now() - started;
  return new Promise((resolve) => {
    const request = get(`${apiUrl}/health`, { agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        try {
          resolve({ ms: took(), body: JSON.parse(text) as HealthBody });
        } catch (error) {
          resolve({
            ms: took(),
            body: undefined,
            error: `HTTP ${res.statusCode}: ${(error as Error).message}`,
          });
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", (error) => resolve({ ms: took(), body: undefined, error: error.message }));
  });
}

/** Polls `/health` back to back until `stop()`; each poll's latency and answer are kept in order. */
export function pollHealth(apiUrl: string, pauseMs = 50) {
  const polls: TimedHealth[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      polls.push(await timedHealth(apiUrl));
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    polls,
    async stop() {
      running = false;
      await done;
      return polls;
    },
  };
}

/**
 * Waits until the bridge has worked off what it took: nothing queued or in flight, and nothing more received,
 * for `quietMs` of `polls` (answers of a running {@link pollHealth}), at most `timeoutMs`. Resolves with the
 * totals then, or undefined on timeout.
 */
export async function controlIdle(polls: TimedHealth[], quietMs = 1_000, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  let quietSince: { at: number; received: number } | undefined;
  while (performance.now() < deadline) {
    const totals = controlTotals(polls.at(-1)?.body?.control);
    const now = performance.now();
    if (totals.received === 0 || totals.busy > 0 || totals.received !== quietSince?.received) {
      quietSince =
        totals.received > 0 && totals.busy === 0 ? { at: now, received: totals.received } : undefined;
    } else if (now - quietSince.at >= quietMs) return totals;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** Totals of both control lanes. */
export function controlTotals(control: ControlStats | null | undefined) {
  const lanes = control ? [control.enroll, control.heartbeat] : [];
  const sum = (pick: (lane: ControlLaneStats) => number) => lanes.reduce((n, lane) => n + pick(lane), 0);
  const shed = {
    queue_full: sum((l) => l.shed.queue_full),
    rate_limited: sum((l) => l.shed.rate_limited),
    oversize: sum((l) => l.shed.oversize),
  };
  return {
    received: sum((l) => l.received),
    processed: sum((l) => l.processed),
    busy: sum((l) => l.queue_depth + l.in_flight),
    pauses: sum((l) => l.pauses),
    shed,
    shedTotal: shed.queue_full + shed.rate_limited + shed.oversize,
  };
}
