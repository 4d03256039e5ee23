import type { LogLevel } from "../../../shared/config/sections.ts";
import { uuidv7 } from "../../../shared/random/uuidv7.ts";
import type { LogRecord, MetricRecord } from "../../../shared/telemetry/records.ts";
import { consoleLine } from "./console-line.ts";

/** The mixer's own records wait at most this many in the bridge; past it the oldest go, and are counted. */
export const MAX_SELF_RECORDS = 5_000;

/** The counter of API answers the Worker reports, by method, route and status class. */
export const API_REQUESTS = "fluxrig.mixer.api.requests";

/** A log line of the mixer's own, before it is given the mixer's entity and an id. */
export interface SelfLog {
  ts: number;
  level: LogRecord["level"];
  message: string;
  attributes?: Record<string, unknown>;
}

/** A metric point of the mixer's own, likewise. */
export interface SelfMetric {
  ts: number;
  name: string;
  type: MetricRecord["type"];
  value: number;
  labels?: Record<string, string>;
}

/** What the Worker's isolates hand the bridge: a few seconds of API counters and log lines, bounded. */
export interface SelfTelemetryBatch {
  logs: SelfLog[];
  metrics: SelfMetric[];
}

/**
 * Prints a mixer log line to the console if `logging.level` lets it through; returns whether it did, so the
 * caller keeps the same line for the store. Never given a token: callers name tokens by their name.
 */
export function printLog(configured: LogLevel, line: SelfLog): boolean {
  return consoleLine(line.level, `mixer: ${line.message}`, configured);
}

/**
 * The mixer's own logs and metrics, held in the Snake bridge until its next flush writes them to the same
 * store as the racks' telemetry, as entity `base.name` with the mixer id as entity id. Bounded: a burst
 * keeps the newest {@link MAX_SELF_RECORDS} and counts what it dropped. A crash of the bridge loses what is
 * held (at most one flush interval of the mixer's own telemetry), never rack data.
 *
 * @example self.log("info", "token grafana created"); await self.flush(store);
 */
export class SelfTelemetry {
  private logs: SelfLog[] = [];
  private metrics: SelfMetric[] = [];
  /** Records dropped for room since the bridge started. */
  dropped = 0;
  /** API answers the Worker's isolates reported since the bridge started, for /health. */
  readonly apiAnswers = { requests: 0, client_errors: 0, server_errors: 0 };

  constructor(private readonly level: () => LogLevel) {}

  /** Logs a line of the bridge's own: printed and kept if `logging.level` allows. */
  log(level: SelfLog["level"], message: string, attributes: Record<string, unknown> = {}): void {
    const line = { ts: Date.now(), level, message, attributes };
    if (printLog(this.level(), line)) this.add(this.logs, [line]);
  }

  metric(name: string, type: SelfMetric["type"], value: number, labels: Record<string, string> = {}): void {
    this.add(this.metrics, [{ ts: Date.now(), name, type, value, labels }]);
  }

  /** Takes a batch from a Worker isolate; its lines were filtered and printed there. */
  accept(batch: SelfTelemetryBatch): void {
    this.add(this.logs, batch.logs.slice(0, MAX_SELF_RECORDS));
    this.add(this.metrics, batch.metrics.slice(0, MAX_SELF_RECORDS));
    for (const metric of batch.metrics) {
      if (metric.name !== API_REQUESTS) continue;
      this.apiAnswers.requests += metric.value;
      if (metric.labels?.status === "4xx") this.apiAnswers.client_errors += metric.value;
      if (metric.labels?.status === "5xx") this.apiAnswers.server_errors += metric.value;
    }
  }

  get size(): number {
    return this.logs.length + this.metrics.length;
  }

  /**
   * Hands what is held to `store` as records of `entity`; what it fails to store is held again (room
   * permitting) for the next flush, and the failure is logged (the store's health counts it).
   */
  async flush(
    entity: { id: string; name: string },
    store: (kind: "logs" | "metrics", records: LogRecord[] | MetricRecord[]) => Promise<unknown>,
  ): Promise<void> {
    const [logs, metrics] = [this.logs, this.metrics];
    this.logs = [];
    this.metrics = [];
    const common = (ts: number) => ({
      record_id: uuidv7(),
      ts,
      entity_id: entity.id,
      entity_name: entity.name,
      flux_id: null,
    });
    try {
      if (logs.length > 0) {
        await store(
          "logs",
          logs.map((l) => ({
            ...common(l.ts),
            level: l.level,
            message: l.message,
            attributes: l.attributes ?? {},
          })),
        );
        logs.length = 0;
      }
      if (metrics.length > 0) {
        await store(
          "metrics",
          metrics.map((m) => ({
            ...common(m.ts),
            name: m.name,
            type: m.type,
            value: m.value,
            labels: m.labels ?? {},
          })),
        );
        metrics.length = 0;
      }
    } catch (error) {
      consoleLine("error", `mixer telemetry: not stored, held for the next try: ${(error as Error).message}`);
    } finally {
      this.add(this.logs, logs);
      this.add(this.metrics, metrics);
    }
  }

  private add<T>(into: T[], items: readonly T[]): void {
    into.push(...items);
    const over = this.size - MAX_SELF_RECORDS;
    if (over > 0) {
      into.splice(0, Math.min(over, into.length));
      this.dropped += over;
    }
  }
}
