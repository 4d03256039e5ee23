import type { ControlStats } from "../control/control-plane.ts";
import type { IngestCounters } from "../ingest/ingest-pump.ts";
import type { PartHealthView } from "./part-health.ts";

/** One ingest bridge (see `ingest.bridges`): what it pulled and wrote, and whether it is on the bus. */
export interface IngestBridgeView {
  index: number;
  connected: boolean;
  lastError: string | null;
  telemetry: IngestCounters;
  journal: IngestCounters;
  store: PartHealthView;
}

/** What the Snake bridge reports to /health and operators. */
export interface BridgeStatus {
  connected: boolean;
  /** Where the bridge dials (snake.websocket_url). */
  url: string;
  lastError: string | null;
  /** The `mixer-ingest` consumer: telemetry into `telemetry/`, summed over every ingest bridge. */
  telemetry: IngestCounters;
  /** The `mixer-journal` consumer: journal records into `messages/`, summed over every ingest bridge. */
  journal: IngestCounters;
  /** Each ingest bridge, this one (index 0) first. */
  bridges: IngestBridgeView[];
  /** The control plane's counters since the connection opened; null before it first connects. */
  control: ControlStats | null;
  /** Failures counted and kept: R2 writes, bus connections, API answers that were 5xx. */
  health: {
    store: PartHealthView;
    bus: PartHealthView;
    /** When the bridge last lost (or, since it started, never had) the bus; null while connected. */
    busDownSince: string | null;
    api: { requests: number; client_errors: number; server_errors: number };
  };
  /** The mixer's own records waiting for the next flush, and those dropped for room. */
  selfTelemetry: { held: number; dropped: number };
}
