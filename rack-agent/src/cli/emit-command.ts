import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { credsAuthenticator } from "@nats-io/nats-core";
import { type Command, InvalidArgumentError } from "commander";
import { LOCAL_EMIT_CREDS_FILE } from "../../../shared/cli/local-mixer-files.ts";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { redactUrl } from "../../../shared/redact/url-credentials.ts";
import { telemetryTier } from "../otlp/index.ts";
import { connectSnake, type SnakeConnectOptions } from "../snake/connect.ts";
import { createTelemetry, type Telemetry } from "../telemetry/index.ts";
import { nameBasedEntityId } from "./entity-id.ts";

const KINDS = ["logs", "metrics", "spans"] as const;
type EmitKind = (typeof KINDS)[number];

function positiveInt(flag: string) {
  return (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} takes a whole number above 0, got "${text}"`);
    return n;
  };
}

const LEVELS = ["debug", "info", "info", "info", "warn", "error"] as const;
const GEARS = ["iso8583-in", "router", "hsm", "switch-out"];

/** One synthetic record of a kind, varied enough to exercise filters and group-bys. */
async function emitOne(telemetry: Telemetry, kind: EmitKind, i: number): Promise<void> {
  const gear = GEARS[i % GEARS.length] as string;
  if (kind === "logs") {
    const level = LEVELS[i % LEVELS.length] as (typeof LEVELS)[number];
    return telemetry.log(level, `synthetic message ${i} through ${gear}`, { gear_id: gear, seq: i });
  }
  if (kind === "metrics") {
    if (i % 3 === 0) return telemetry.counter("fluxrig.emit.messages_total", 1, { gear });
    if (i % 3 === 1) return telemetry.gauge("fluxrig.emit.queue_depth", i % 50, { gear });
    return telemetry.histogram("fluxrig.emit.latency_ms", (i % 97) / 3, { gear });
  }
  const span = telemetry.startSpan("synthetic.authorize", { attributes: { gear_id: gear, seq: i } });
  return span.end({ status: i % 20 === 0 ? "error" : "ok" });
}

/**
 * The bus credentials emit presents: the `--creds` file (which must exist), else the local mixer's
 * `emit.creds` when there is one, else none (an open bus).
 */
async function emitCredentials(file: string | undefined, storeDir: string): Promise<SnakeConnectOptions> {
  const path = file ?? join(storeDir, LOCAL_EMIT_CREDS_FILE);
  const creds = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (file !== undefined)
      throw new Error(`--creds ${file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
    return undefined;
  });
  return creds ? { authenticator: credsAuthenticator(creds) } : {};
}

/**
 * `fluxrig emit logs|metrics|spans --count N [--rate R] [--entity NAME]`: pushes synthetic records through
 * the real telemetry client (connecting per the rack config) and exits once JetStream acknowledged every one.
 */
export function addEmitCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void; err: (text: string) => void; isTTY: boolean },
): void {
  program
    .command("emit")
    .description("send synthetic telemetry through the real client, for demos, tests and benchmarks")
    .argument("<kind>", `what to send: ${KINDS.join(", ")}`, (text: string) => {
      if (!(KINDS as readonly string[]).includes(text)) {
        throw new InvalidArgumentError(`expected one of ${KINDS.join(", ")}, got "${text}"`);
      }
      return text as EmitKind;
    })
    .requiredOption("-n, --count <n>", "how many records", positiveInt("--count"))
    .option(
      "-r, --rate <per-second>",
      "records per second (default: as fast as the bus takes them)",
      positiveInt("--rate"),
    )
    .option("--entity <name>", "entity name stamped on the records (default: base.name)")
    .option(
      "--creds <file>",
      `NATS credentials for a bus in operator mode (default: <store.dir>/${LOCAL_EMIT_CREDS_FILE} of a local mixer, if there)`,
    )
    .action(
      async (kind: EmitKind, options: { count: number; rate?: number; entity?: string; creds?: string }) => {
        const { config, warnings } = await loadRack();
        for (const warning of warnings) io.err(`warning: ${warning}\n`);
        if (!config.observability.enabled) {
          io.err(
            "fluxrig emit: telemetry is disabled (observability.enabled = false or FLUXRIG_DISABLE_TELEMETRY); nothing sent\n",
          );
          return;
        }
        const name = options.entity ?? config.base.name;
        const nc = await connectSnake(config.snake, {
          name: `fluxrig-emit-${name}`,
          ...(await emitCredentials(options.creds, config.store.dir)),
        });
        const telemetry = await createTelemetry({
          nc,
          domain: config.snake.domain,
          entity: { id: await nameBasedEntityId(name), name },
          maxPayloadSize: config.rack.max_payload_size,
          samplingRate: config.observability.sampling_rate,
          enabled: true,
          // Its own spool: a running agent (`fluxrig run`) drains the state dir's, and two drainers would race.
          stateDir: join(config.base.state_dir, "emit"),
          selfMetricsIntervalMs: 3_600_000,
          ...telemetryTier(config),
          warn: (message) => io.err(`warning: ${message}\n`),
        });
        const started = performance.now();
        let lastReport = started;
        const report = (done: number) => {
          const seconds = (performance.now() - started) / 1_000;
          io.err(
            `\r${kind}: ${done}/${options.count} emitted, ${telemetry.stats().recordsSent} acknowledged (${Math.round(done / seconds)}/s)   `,
          );
        };
        try {
          for (let i = 0; i < options.count; i++) {
            if (options.rate) {
              const due = started + (i / options.rate) * 1_000;
              const wait = due - performance.now();
              if (wait > 1) await sleep(wait);
            }
            await emitOne(telemetry, kind, i);
            if (io.isTTY && performance.now() - lastReport > 500) {
              lastReport = performance.now();
              report(i + 1);
            }
          }
          await telemetry.close();
        } finally {
          await nc.close();
        }
        if (io.isTTY) io.err("\n");
        const stats = telemetry.stats();
        const seconds = (performance.now() - started) / 1_000;
        io.out(
          `${kind}: ${options.count} emitted as ${name} to ${redactUrl(config.snake.url)}: ${stats.recordsSent} acknowledged in ${stats.batchesSent} batches, ` +
            `${stats.recordsSpooled} spooled, ${stats.recordsDropped} dropped, ${seconds.toFixed(2)} s (${Math.round(options.count / seconds)} records/s)\n`,
        );
        if (stats.recordsSent < options.count) {
          throw new Error(
            `${options.count - stats.recordsSent} records were not acknowledged by JetStream` +
              (stats.spool.batches > 0
                ? `; ${stats.spool.batches} batches wait in the spool under ${join(config.base.state_dir, "emit")} and go out on the next emit`
                : ""),
          );
        }
      },
    );
}
