import type { z } from "zod";
import { bool, busName, duration, entityName, int, num, oneOf, secret, section, str, url } from "./fields.ts";
import type { UrlRule } from "./url-rule.ts";

/** Sections and fields the rack and the mixer share (reference: [Base] (Common), [Logging], [Observability]). */

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const logLevel = () =>
  oneOf(LOG_LEVELS, "info").meta({
    description: "Verbosity: debug, info, warn, error (trace is what FLUXRIG_TRACE or logging.trace force).",
  });

export const baseSection = section({
  name: entityName("node-01", "Unique Name. Claims this specific identity."),
  state_dir: str("./data", "Root directory for state and WAL."),
  state_file: str("rack.flux", "Signed State Bundle (CBOR). Persists Identity, Config, and Secrets."),
});

/** Observability fields both sides read; the mixer adds its storage tiers. */
export const observabilityShape = {
  enabled: bool(true),
  tier: oneOf(["embedded", "otlp"], "embedded"),
  sampling_rate: num(1.0, 0, 1),
};

/**
 * Where a client dials NATS: TCP (`nats://`, `tls://`) or a websocket. One URL: a NATS client learns the
 * cluster's other servers from the one it reaches, and the client here takes a single URL.
 */
export const SNAKE_URL_RULE: UrlRule = {
  schemes: ["nats", "tls", "ws", "wss"],
  listHint: "a client learns the other servers of a NATS cluster from the one it reaches",
};

export const snakeClientShape = {
  url: url("nats://localhost:4222", SNAKE_URL_RULE, "NATS Server URL."),
  domain: busName("flux", "JetStream Domain. Must match Mixer cluster name."),
  stream_name: busName("flux-msg", "Primary JetStream stream name."),
};

export const throttlingSection = section({
  enabled: bool(true),
  rate: num(500.0, 0, 1_000_000),
  burst: int(50, 0, 1_000_000),
});

export const observabilitySection = section(observabilityShape);

export const connectSection = section({
  ...snakeClientShape,
  connect_timeout: duration("10s", "100ms"),
  reconnect_wait: duration("1s", "10ms"),
  convergence_delay: duration("100ms"),
  enrollment_token: secret(
    "The bus's enrollment credential (FLUXRIG_SNAKE_ENROLLMENT_TOKEN) when nats-server runs in operator mode: a bearer JWT that may only request flux.ctl.enroll.",
  ),
});

export type BaseSection = z.infer<typeof baseSection>;
