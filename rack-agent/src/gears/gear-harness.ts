import type { z } from "zod";
import type { FluxLimits } from "../../../shared/fluxmsg/limits.ts";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import { type FluxMsgDraft, newFluxMsg, produce } from "../../../shared/fluxmsg/produce.ts";
import { formatTraceparent } from "../../../shared/fluxmsg/traceparent.ts";
import type { FluxSpec } from "../../../shared/spec/index.ts";
import type { LogRecord, MetricRecord } from "../../../shared/telemetry/records.ts";
import type { JournalEntry } from "../journal/journal-record.ts";
import { heldSpecs } from "../journal/spec-view.ts";
import { createRackLogger, type RackLogger } from "../log/index.ts";
import type { Telemetry } from "../telemetry/index.ts";
import { type FinishedSpan, startSpan } from "../telemetry/span.ts";
import { newSpanId, newTraceId } from "../telemetry/trace-ids.ts";
import type { GearImplementation } from "./gear.ts";
import { GearHost, type GearServices } from "./gear-host.ts";

type Logged = Pick<LogRecord, "level" | "message" | "attributes"> & { fluxId: string | null };
type Measured = Pick<MetricRecord, "name" | "type" | "value" | "labels">;

/** A telemetry client that keeps every record in memory (every trace sampled): for tests and benchmarks. */
export interface RecordingTelemetry extends Telemetry {
  logs: Logged[];
  metrics: Measured[];
  spans: FinishedSpan[];
  journaled: JournalEntry[];
}

/**
 * @example const telemetry = recordingTelemetry(); …; expect(telemetry.spans).toHaveLength(3);
 */
export function recordingTelemetry(samplingRate = 1): RecordingTelemetry {
  const done = Promise.resolve();
  const keep = <T>(list: T[], item: T) => {
    list.push(item);
    return done;
  };
  const recordSpan = (span: FinishedSpan) => keep(telemetry.spans, span);
  let rate = samplingRate;
  const telemetry: RecordingTelemetry = {
    logs: [],
    metrics: [],
    spans: [],
    journaled: [],
    log: (level, message, attributes = {}, fluxId = null) =>
      keep(telemetry.logs, { level, message, attributes, fluxId }),
    counter: (name, value, labels = {}) => keep(telemetry.metrics, { name, type: "counter", value, labels }),
    gauge: (name, value, labels = {}) => keep(telemetry.metrics, { name, type: "gauge", value, labels }),
    histogram: (name, value, labels = {}) =>
      keep(telemetry.metrics, { name, type: "histogram", value, labels }),
    startSpan: (name, options = {}) => startSpan(name, options, rate, recordSpan),
    journal: (entry) => keep(telemetry.journaled, entry),
    flush: () => done,
    close: () => done,
    stats: () => {
      throw new Error("a recording telemetry client keeps no pipeline stats");
    },
    journalStats: () => {
      throw new Error("a recording telemetry client keeps no pipeline stats");
    },
    setSamplingRate: (next) => {
      rate = next;
    },
  };
  return telemetry;
}

/**
 * A rack log at trace level whose records reach `telemetry` (as the rack's do) and whose console lines, without
 * their time and level, go to `lines`: for tests and benchmarks.
 *
 * @example const lines: string[] = []; const log = recordingLog(telemetry, lines); // "rack-1/gear: seen"
 */
export function recordingLog(telemetry: Pick<Telemetry, "log">, lines?: string[]): RackLogger {
  const log = createRackLogger({
    level: "trace",
    telemetry: true,
    console: lines && {
      write: (text) => void lines.push(text.replace(/^\S+ \S+ /, "").trimEnd()),
      tty: false,
      color: false,
    },
  });
  log.attach(telemetry);
  return log;
}

export interface GearHarnessOptions {
  name?: string;
  rackName?: string;
  /** Input ports to treat as wired (http-in and tcp-in answer at once when `reply` is not). */
  wiredInputs?: string[];
  secrets?: Record<string, string>;
  limits?: Partial<FluxLimits>;
  /** The fluxSpecs the rack holds, by reference. */
  specs?: Record<string, FluxSpec>;
  /** What an emit waits for, as a guaranteed lane's store would (resolves: stored; rejects: never stored). */
  stored?: (port: string, msg: FluxMsg) => Promise<void>;
}

/** One gear running alone, with what it emitted, dead-lettered, logged and traced. */
export interface GearHarness {
  host: GearHost;
  telemetry: RecordingTelemetry;
  emitted: { port: string; msg: FluxMsg }[];
  deadLetters: { msg: FluxMsgDraft; reason: string }[];
  /** Delivers a message on an input as a hot lane would, and waits until the gear is done with it. */
  send(port: string, msg: FluxMsg): Promise<void>;
  /** Resolves with the next message the gear emits (or one already emitted and not yet taken). */
  next(): Promise<{ port: string; msg: FluxMsg }>;
  stop(): Promise<void>;
}

/**
 * Runs one gear in memory, initialised and started, for tests of built-in and user gear types alike.
 *
 * @example
 * const gear = await startGear(routerGear, { routes: [{ to: "big", when: [{ field: "data.amount", gt: 10 }] }] });
 * await gear.send("in", sampleMessage({ data: { amount: 50 } }));
 * expect(gear.emitted[0]?.port).toBe("big");
 * await gear.stop();
 */
export async function startGear<S extends z.ZodType>(
  implementation: GearImplementation<S>,
  config: Record<string, unknown>,
  options: GearHarnessOptions = {},
): Promise<GearHarness> {
  const telemetry = recordingTelemetry();
  const emitted: GearHarness["emitted"] = [];
  const deadLetters: GearHarness["deadLetters"] = [];
  let taken = 0;
  let waiter: (() => void) | undefined;
  const services: GearServices = {
    rackName: options.rackName ?? "rack-test",
    telemetry,
    log: recordingLog(telemetry),
    limits: { maxHops: 64, maxPayloadSize: 2_097_152, ...options.limits },
    secrets: { get: (name) => options.secrets?.[name] },
    specs: heldSpecs((reference) => options.specs?.[reference], { get: (name) => options.secrets?.[name] }),
    deadLetter: (msg, _gear, reason) => void deadLetters.push({ msg, reason }),
  };
  const name = options.name ?? implementation.declaration.type;
  const host = new GearHost(
    implementation as unknown as GearImplementation,
    { name, type: implementation.declaration.type, config, hash: "" },
    services,
    (_from, port, msg) => {
      emitted.push({ port, msg });
      waiter?.();
      return options.stored?.(port, msg);
    },
    new Set(options.wiredInputs ?? []),
  );
  await host.init();
  await host.start();
  return {
    host,
    telemetry,
    emitted,
    deadLetters,
    async send(port, msg) {
      await host.deliver(msg, port);
      await host.idle();
    },
    async next() {
      while (taken >= emitted.length) await new Promise<void>((resolve) => (waiter = resolve));
      return emitted[taken++] as { port: string; msg: FluxMsg };
    },
    async stop() {
      await host.drain();
      await host.stop();
    },
  };
}

/**
 * A message as if an upstream gear had emitted it: a fresh flux_id, a sampled trace, one hop.
 *
 * @example sampleMessage({ type: "card.auth", data: { amount: 12 } })
 */
export function sampleMessage(fields: Partial<FluxMsg> = {}): FluxMsg {
  const trace = formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), sampled: true });
  const draft = newFluxMsg({ type: "sample", data: {}, trace });
  const produced = produce(
    draft,
    { rack: "rack-upstream", gear: "upstream", port: "out" },
    { maxHops: 64, maxPayloadSize: 2 ** 21 },
  );
  return { ...produced.msg, ...fields };
}
