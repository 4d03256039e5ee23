import type { ControlStats } from "../control/control-plane.ts";

/** What the Snake bridge reports to /health and operators. */
export interface BridgeStatus {
  connected: boolean;
  /** Where the bridge dials (snake.websocket_url). */
  url: string;
  lastFlushAt: string | null;
  /** Records received but not yet written to R2 (their messages are not acked yet). */
  pendingRecords: number;
  pendingMessages: number;
  recordsStored: number;
  objectsWritten: number;
  bytesWritten: number;
  flushes: number;
  /** Cumulative milliseconds per ingest stage: where the time goes. */
  timing: { decodeMs: number; encodeMs: number; putMs: number; ackMs: number };
  messagesDeadLettered: number;
  recordsDeadLettered: number;
  lastError: string | null;
  /** The control plane's counters since the connection opened; null before it first connects. */
  control: ControlStats | null;
}
