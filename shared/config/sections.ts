import type { z } from "zod";
import { bool, duration, int, num, oneOf, section, str } from "./fields.ts";

/** Sections and fields the rack and the mixer share (reference: [Base] (Common), [Logging], [Observability]). */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const logLevel = () =>
  oneOf(LOG_LEVELS, "info").meta({
    description: "Verbosity: debug, info, warn, error (trace is what FLUXRIG_TRACE or logging.trace force).",
  });

export const baseSection = section({
  name: str("node-01", "Unique Name. Claims this specific identity."),
  state_dir: str("./data", "Root directory for state and WAL."),
  state_file: str("rack.flux", "Signed State Bundle (CBOR). Persists Identity, Config, and Secrets."),
});

/** Observability fields both sides read; the mixer adds its storage tiers. */
export const observabilityShape = {
  enabled: bool(true),
  tier: oneOf(["embedded", "otlp"], "embedded"),
  sampling_rate: num(1.0, 0, 1),
};

export const snakeClientShape = {
  url: str("nats://localhost:4222", "NATS Server URL."),
  domain: str("flux", "JetStream Domain. Must match Mixer cluster name."),
  stream_name: str("flux-msg", "Primary JetStream stream name."),
};

export const throttlingSection = section({
  enabled: bool(true),
  rate: num(500.0, 0),
  burst: int(50),
});

export const observabilitySection = section(observabilityShape);

export const connectSection = section({
  ...snakeClientShape,
  connect_timeout: duration("10s", "100ms"),
  reconnect_wait: duration("1s", "10ms"),
  convergence_delay: duration("100ms"),
});

export type BaseSection = z.infer<typeof baseSection>;
