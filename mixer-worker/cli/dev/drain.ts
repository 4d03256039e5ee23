import { JetStreamApiError, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { TELEMETRY_CONSUMER, TELEMETRY_STREAM } from "../../../shared/fluxmsg/subjects.ts";
import { DEAD_LETTER_FILTER } from "../../../shared/snake/streams.ts";

export interface DrainOptions {
  natsUrl: string;
  domain: string;
  /** Whether the streams are on disk (snake.durable): decides what a timeout costs. */
  durable: boolean;
  /** Where a durable stream keeps what is left, for the warning. */
  storeDir: string;
  timeoutMs: number;
  log: (line: string) => void;
  /** Aborting (a second Ctrl-C) stops waiting at once. */
  signal?: AbortSignal;
}

export interface DrainOutcome {
  drained: boolean;
  /** Telemetry messages acknowledged to racks and not yet in R2 when the wait ended. */
  left: number;
}

/** JetStream's code for "consumer not found". */
const CONSUMER_NOT_FOUND = 10014;

/**
 * The first half of an orderly stop: closes the telemetry stream's intake (racks' publishes then fail and
 * they spool to their write-ahead logs, to send again at the next start), then waits until the mixer's
 * bridge has written to R2 and acknowledged every message the bus holds for it, printing progress. On a
 * timeout it says loudly what is lost (memory streams) or kept for the next start (durable ones).
 *
 * @example
 * const { drained } = await drainTelemetry({ natsUrl, domain: "flux", durable: false, storeDir, timeoutMs: 60_000, log });
 */
export async function drainTelemetry(options: DrainOptions): Promise<DrainOutcome> {
  const nc = await connect({ servers: options.natsUrl, timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc, { domain: options.domain });
    // Dead letters stay captured: the bridge still publishes them while it flushes.
    await jsm.streams.update(TELEMETRY_STREAM, { subjects: [DEAD_LETTER_FILTER] });
    options.log("stopping: telemetry intake closed (racks spool until the next start); draining the bridge");
    const deadline = Date.now() + options.timeoutMs;
    let lastReport = 0;
    for (;;) {
      const waiting = await waitingForBridge(jsm);
      if (waiting.total === 0) {
        options.log("stopping: every acknowledged telemetry message is in R2");
        return { drained: true, left: 0 };
      }
      if (Date.now() >= deadline || options.signal?.aborted) {
        warnLeft(options, waiting.total, options.signal?.aborted ? "a second Ctrl-C" : "the drain timeout");
        return { drained: false, left: waiting.total };
      }
      if (Date.now() - lastReport >= 1_000) {
        lastReport = Date.now();
        options.log(
          `stopping: ${waiting.queued} telemetry messages waiting for the bridge, ${waiting.held} held by it until its next R2 write`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}

async function waitingForBridge(jsm: JetStreamManager) {
  try {
    const info = await jsm.consumers.info(TELEMETRY_STREAM, TELEMETRY_CONSUMER);
    return {
      queued: info.num_pending,
      held: info.num_ack_pending,
      total: info.num_pending + info.num_ack_pending,
    };
  } catch (error) {
    // The bridge never connected: everything in the stream is still waiting for it.
    if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) throw error;
    const { state } = await jsm.streams.info(TELEMETRY_STREAM);
    return { queued: state.messages, held: 0, total: state.messages };
  }
}

function warnLeft(options: DrainOptions, left: number, cause: string): void {
  const line = "!".repeat(100);
  const detail = options.durable
    ? `They stay in the durable stream under ${options.storeDir} and are stored at the next start.`
    : "snake.durable = false keeps them in memory only: they are LOST when nats-server stops. " +
      "Set snake.durable = true to keep them across stops.";
  options.log(line);
  options.log(
    `WARNING: stopped waiting (${cause}) with ${left} telemetry messages acknowledged to racks but not yet in R2.`,
  );
  options.log(detail);
  options.log(line);
}
