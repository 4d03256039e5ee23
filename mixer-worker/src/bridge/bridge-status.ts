import type { ControlStats } from "../control/control-plane.ts";
import type { IngestCounters } from "../ingest/ingest-pump.ts";

/** What the Snake bridge reports to /health and operators. */
export interface BridgeStatus {
  connected: boolean;
  /** Where the bridge dials (snake.websocket_url). */
  url: string;
  lastError: string | null;
  /** The `mixer-ingest` consumer: telemetry into `telemetry/`. */
  telemetry: IngestCounters;
  /** The `mixer-journal` consumer: journal records into `messages/`. */
  journal: IngestCounters;
  /** The control plane's counters since the connection opened; null before it first connects. */
  control: ControlStats | null;
}
