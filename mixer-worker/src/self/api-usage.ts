import type { Context, MiddlewareHandler } from "hono";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings, MixerEnv } from "../env.ts";
import { consoleLine } from "./console-line.ts";
import {
  API_REQUESTS,
  printLog,
  type SelfLog,
  type SelfMetric,
  type SelfTelemetryBatch,
} from "./self-telemetry.ts";

/** An isolate hands its counters to the bridge at most this often, and log lines at most once a second. */
const SEND_EVERY_MS = 5_000;
const SEND_LOGS_EVERY_MS = 1_000;
/** Distinct (method, route, status class) counters an isolate keeps; past it they fold into one "other". */
const MAX_COUNTERS = 256;
/** Log lines an isolate holds between sends; past it they are counted, not kept. */
const MAX_LOGS = 100;

interface Counter {
  labels: { method: string; route: string; status: string };
  count: number;
  totalMs: number;
  maxMs: number;
}

/**
 * What this isolate gathered since it last handed a batch to the bridge. Its size is bounded whatever the
 * traffic: counters by route, not by request, and at most {@link MAX_LOGS} lines. An isolate that dies
 * loses at most {@link SEND_EVERY_MS} of it.
 */
const held = {
  counters: new Map<string, Counter>(),
  logs: [] as SelfLog[],
  droppedLogs: 0,
  sentAt: Date.now(),
  /** A send of held log lines is waiting for {@link SEND_LOGS_EVERY_MS} to pass (see sendSelfTelemetry). */
  logsScheduled: false,
};

/**
 * Logs a line of the mixer's own from the Worker: printed if `logging.level` lets it through, and then
 * written to the store with the bridge's next flush of the mixer's telemetry. Never pass a token.
 *
 * @example selfLog(c, "info", "token grafana (read) created");
 */
export function selfLog(
  c: Context<MixerBindings>,
  level: SelfLog["level"],
  message: string,
  attributes = {},
): void {
  const line = { ts: Date.now(), level, message, attributes };
  if (!printLog(mixerConfig(c.env).config.logging.level, line)) return;
  if (held.logs.length < MAX_LOGS) held.logs.push(line);
  else held.droppedLogs++;
}

function count(method: string, route: string, status: number, ms: number): void {
  const labels = { method, route, status: `${Math.floor(status / 100)}xx` };
  let key = `${labels.method} ${labels.route} ${labels.status}`;
  if (!held.counters.has(key) && held.counters.size >= MAX_COUNTERS) {
    key = "other";
    labels.route = "other";
  }
  const counter = held.counters.get(key) ?? { labels, count: 0, totalMs: 0, maxMs: 0 };
  counter.count++;
  counter.totalMs += ms;
  counter.maxMs = Math.max(counter.maxMs, ms);
  held.counters.set(key, counter);
}

/** Takes what the isolate holds as one batch for the bridge. */
function takeBatch(now: number): SelfTelemetryBatch {
  const metrics: SelfMetric[] = [];
  for (const { labels, count, totalMs, maxMs } of held.counters.values()) {
    metrics.push({ ts: now, name: API_REQUESTS, type: "counter", value: count, labels });
    metrics.push({
      ts: now,
      name: "fluxrig.mixer.api.latency_ms",
      type: "gauge",
      value: totalMs / count,
      labels: { ...labels, stat: "mean" },
    });
    metrics.push({
      ts: now,
      name: "fluxrig.mixer.api.latency_ms",
      type: "gauge",
      value: maxMs,
      labels: { ...labels, stat: "max" },
    });
  }
  const logs = held.logs;
  if (held.droppedLogs > 0) {
    logs.push({
      ts: now,
      level: "warn",
      message: `${held.droppedLogs} log lines of this isolate dropped for room`,
    });
  }
  held.counters = new Map();
  held.logs = [];
  held.droppedLogs = 0;
  held.sentAt = now;
  return { logs, metrics };
}

/**
 * Hands the isolate's batch to the bridge if it is due (now, with `force`), after the response: the call is
 * fire-and-forget, a failure loses that batch only.
 */
export function sendSelfTelemetry(
  env: MixerEnv,
  waitUntil: (work: Promise<unknown>) => void,
  force = false,
): void {
  const now = Date.now();
  if (!mixerConfig(env).config.observability.enabled) {
    takeBatch(now); // kept nowhere: FLUXRIG_DISABLE_TELEMETRY or observability.enabled = false
    return;
  }
  const due =
    force ||
    now - held.sentAt >= SEND_EVERY_MS ||
    (held.logs.length > 0 && now - held.sentAt >= SEND_LOGS_EVERY_MS) ||
    held.logs.length >= MAX_LOGS;
  if (due && (held.counters.size > 0 || held.logs.length > 0)) waitUntil(handOver(env, takeBatch(now)));
  else if (held.logs.length > 0 && !held.logsScheduled) {
    // A line (a token created, a 5xx) must not wait for a later request that may never come to this isolate:
    // it goes once the second has passed, within this request's waitUntil.
    held.logsScheduled = true;
    const wait = SEND_LOGS_EVERY_MS - (now - held.sentAt);
    waitUntil(
      new Promise((resolve) => setTimeout(resolve, wait)).then(() => {
        held.logsScheduled = false;
        return held.logs.length > 0 ? handOver(env, takeBatch(Date.now())) : undefined;
      }),
    );
  }
}

/** The fire-and-forget RPC: a failure loses that batch only. */
async function handOver(env: MixerEnv, batch: SelfTelemetryBatch): Promise<void> {
  await snakeBridge(env)
    .acceptSelfTelemetry(batch)
    .catch((error: Error) => {
      consoleLine("error", `mixer telemetry: a batch of this isolate is lost: ${error.message}`);
    });
}

/**
 * Counts every answer by method, route pattern and status class with its latency, and hands the counts to
 * the bridge every few seconds: the mixer's own API metrics, queryable as entity `base.name`.
 *
 * @example app.use("*", apiUsage());
 */
export function apiUsage(): MiddlewareHandler<MixerBindings> {
  return async function apiUsageMiddleware(c, next) {
    const started = performance.now();
    await next();
    count(c.req.method, c.req.routePath, c.res.status, performance.now() - started);
    let waitUntil: (work: Promise<unknown>) => void;
    try {
      const ctx = c.executionCtx;
      waitUntil = (work) => ctx.waitUntil(work);
    } catch {
      return; // no execution context (a bare app.request in a test): the next real request sends it
    }
    sendSelfTelemetry(c.env, waitUntil);
  };
}
