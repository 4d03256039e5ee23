import { JetStreamApiError, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { Authenticator } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { LogLevel } from "../../../shared/config/index.ts";
import { JOURNAL_CONSUMER, TELEMETRY_CONSUMER, TELEMETRY_STREAM } from "../../../shared/fluxmsg/subjects.ts";
import { DEAD_LETTER_FILTER } from "../../../shared/snake/streams.ts";

export interface DrainOptions {
  natsUrl: string;
  /** Credentials when nats-server runs in operator mode. */
  authenticator?: Authenticator;
  domain: string;
  /** Whether the streams are on disk (snake.durable): decides what a timeout costs. */
  durable: boolean;
  /** Where a durable stream keeps what is left, for the warning. */
  storeDir: string;
  timeoutMs: number;
  /** A line of the launcher's, at `level` (default info): `logging.level` decides whether it prints. */
  log: (line: string, level?: LogLevel) => void;
  /** Aborting (a second Ctrl-C) stops waiting at once. */
  signal?: AbortSignal;
}

export interface DrainOutcome {
  drained: boolean;
  /** Telemetry and journal messages acknowledged to racks and not yet in R2 when the wait ended. */
  left: number;
}

/** JetStream's code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/**
 * The first half of an orderly stop: closes the telemetry stream's intake of telemetry and journal records
 * (racks' publishes then fail and they spool to their write-ahead logs, to send again at the next start), then
 * waits until the mixer's bridge has written to R2 and acknowledged every message the bus holds for either of
 * its consumers (`mixer-ingest`, `mixer-journal`), printing progress. On a
 * timeout it says loudly what is lost (memory streams) or kept for the next start (durable ones).
 *
 * @example
 * const { drained } = await drainTelemetry({ natsUrl, domain: "flux", durable: false, storeDir, timeoutMs: 60_000, log });
 */
export async function drainTelemetry(options: DrainOptions): Promise<DrainOutcome> {
  const nc = await connect({
    servers: options.natsUrl,
    timeout: 5_000,
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
  });
  try {
    const jsm = await jetstreamManager(nc, { domain: options.domain });
    // Dead letters stay captured: the bridge still publishes them while it flushes. Narrowing to them closes
    // both flux.telemetry.> and flux.journal.>.
    await jsm.streams.update(TELEMETRY_STREAM, { subjects: [DEAD_LETTER_FILTER] });
    options.log(
      "stopping: telemetry and journal intake closed (racks spool until the next start); draining the bridge",
    );
    const deadline = Date.now() + options.timeoutMs;
    let lastReport = 0;
    for (;;) {
      const waiting = await waitingForBridge(jsm);
      if (waiting.total === 0) {
        options.log("stopping: every acknowledged telemetry and journal message is in R2");
        return { drained: true, left: 0 };
      }
      if (Date.now() >= deadline || options.signal?.aborted) {
        warnLeft(options, waiting.total, options.signal?.aborted ? "a second Ctrl-C" : "the drain timeout");
        return { drained: false, left: waiting.total };
      }
      if (Date.now() - lastReport >= 1_000) {
        lastReport = Date.now();
        options.log(
          `stopping: ${waiting.queued} telemetry and journal messages waiting for the bridge, ${waiting.held} held by it until its next R2 write`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}

/** What the bus still holds for the bridge's two consumers, summed. */
async function waitingForBridge(jsm: JetStreamManager) {
  const [telemetry, journal] = await Promise.all([
    waitingFor(jsm, TELEMETRY_CONSUMER),
    waitingFor(jsm, JOURNAL_CONSUMER),
  ]);
  if (!telemetry || !journal) {
    // A consumer the bridge never created: everything in the stream may still be waiting for it.
    const { state } = await jsm.streams.info(TELEMETRY_STREAM);
    return { queued: state.messages, held: 0, total: state.messages };
  }
  const queued = telemetry.num_pending + journal.num_pending;
  const held = telemetry.num_ack_pending + journal.num_ack_pending;
  return { queued, held, total: queued + held };
}

async function waitingFor(jsm: JetStreamManager, consumer: string) {
  try {
    return await jsm.consumers.info(TELEMETRY_STREAM, consumer);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) throw error;
    return undefined;
  }
}

function warnLeft(options: DrainOptions, left: number, cause: string): void {
  const line = "!".repeat(100);
  const detail = options.durable
    ? `They stay in the durable stream under ${options.storeDir} and are stored at the next start.`
    : "snake.durable = false keeps them in memory only: they are LOST when nats-server stops. " +
      "Set snake.durable = true to keep them across stops.";
  options.log(line, "warn");
  options.log(
    `WARNING: stopped waiting (${cause}) with ${left} telemetry and journal messages acknowledged to racks but not yet in R2.`,
    "warn",
  );
  options.log(detail, "warn");
  options.log(line, "warn");
}
