import * as z from "zod";
import {
  bool,
  busName,
  duration,
  entityName,
  int,
  num,
  oneOf,
  secret,
  section,
  str,
  stringMap,
  url,
} from "./fields.ts";
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

/** An OTLP collector: HTTP(S), or host:port as the reference writes it; "" leaves it unused. */
const OTLP_ENDPOINT_RULE: UrlRule = { schemes: ["http", "https"], hostPort: true, empty: true };
/** An HTTP header name: RFC 9110 token characters. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** `[observability.otlp.messages] data_dir`'s default. */
export const DEFAULT_MESSAGES_DIR = "./data/messages";

/**
 * `[observability.otlp]`: where `tier = "otlp"` exports (the rack all of it; the mixer its own telemetry over
 * `endpoint_http`, refusing what a Worker cannot do: mixer-schema.ts).
 */
export const otlpSection = section({
  endpoint: url("", OTLP_ENDPOINT_RULE, "OTLP gRPC endpoint (e.g., 127.0.0.1:4317)."),
  endpoint_http: url("", OTLP_ENDPOINT_RULE, "OTLP HTTP endpoint (alternative to gRPC)."),
  headers: stringMap(
    // Values without CR or LF, which would split a header.
    { name: (name) => HTTP_TOKEN.test(name), nameAllowed: "an HTTP header name", valueMax: 8_192 },
    "Headers sent to the collector; a credential is a reference to the environment, never a literal.",
  ),
  insecure: bool(false).meta({ description: "Skip TLS verification." }),
  timeout: duration("30s", "100ms"),
  messages: section({
    enabled: bool(false),
    data_dir: str(DEFAULT_MESSAGES_DIR),
  }),
});

/**
 * A rack's `[snake]`: the reference's client fields, and ours for operator mode and TLS. TLS is required when
 * the URL is `tls://` or any `tls_*` file is set; the server's certificate is always verified.
 */
export const connectSection = z
  .object({
    ...snakeClientShape,
    connect_timeout: duration("10s", "100ms"),
    reconnect_wait: duration("1s", "10ms"),
    convergence_delay: duration("100ms"),
    enrollment_token: secret(
      "The bus's enrollment credential (FLUXRIG_SNAKE_ENROLLMENT_TOKEN) when nats-server runs in operator mode: a bearer JWT that may only request flux.ctl.enroll.",
    ),
    tls_ca_file: str(
      "",
      "PEM file of the CA(s) that signed nats-server's certificate (a private CA); empty: the system's roots.",
    ),
    tls_cert_file: str(
      "",
      "PEM client certificate, for a nats-server that verifies clients (tls { verify: true }); with tls_key_file.",
    ),
    tls_key_file: str("", "PEM private key of tls_cert_file (keep it readable by the agent only)."),
  })
  .superRefine((snake, ctx) => {
    for (const [set, missing] of [
      ["tls_cert_file", "tls_key_file"],
      ["tls_key_file", "tls_cert_file"],
    ] as const) {
      if (snake[set] !== "" && snake[missing] === "") {
        ctx.addIssue({
          code: "custom",
          path: [missing],
          message: `${set} is set: a client certificate needs its key, so set ${missing} too (or neither)`,
        });
      }
    }
    if (/^wss?:\/\//i.test(snake.url) && (snake.tls_ca_file || snake.tls_cert_file)) {
      ctx.addIssue({
        code: "custom",
        path: ["tls_ca_file"],
        message: `the tls_* files apply to nats:// and tls:// URLs; ${snake.url} is a websocket (wss:// uses the system's roots)`,
      });
    }
  })
  .prefault({} as never);

export type BaseSection = z.infer<typeof baseSection>;
