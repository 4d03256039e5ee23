import pino from "pino";
import { LOG_LEVELS, type LogLevel } from "../../../shared/config/index.ts";
import { merge } from "../../../shared/object/merge.ts";
import { redactUrls } from "../../../shared/redact/url-credentials.ts";
import type { Telemetry } from "../telemetry/index.ts";
import { consoleLine } from "./console-line.ts";
import { openRotatingFile, type RotatingFile } from "./rotating-file.ts";

export type LogAttributes = Record<string, unknown>;
type LineMethod = (message: string, attributes?: LogAttributes, fluxId?: string | null) => void;

/**
 * Where the rack says what it does. Every line passes `logging.level` once, then goes to the console, the
 * log file and (unless {@link Logger.local}) the rack's telemetry `logs`.
 */
export interface Logger extends Record<LogLevel, LineMethod> {
  /** Writes one line at `level`: the methods above are this with the level fixed. */
  write(level: LogLevel, message: string, attributes?: LogAttributes, fluxId?: string | null): void;
  /** Whether a line at `level` would be written at all (skip building costly messages). */
  enabled(level: LogLevel): boolean;
  /** The same log with `scope:` before console lines and `attributes` on every record (e.g. a gear). */
  child(scope: string, attributes?: LogAttributes): Logger;
  /**
   * The same log without the telemetry sink: for what telemetry itself reports (a failing publish, dropped
   * records), which would otherwise feed records into the pipeline that is complaining.
   */
  readonly local: Logger;
}

export interface RackLoggerOptions {
  /** `logging.level` as loaded (FLUXRIG_TRACE / FLUXRIG_DEBUG and logging.trace / debug already applied). */
  level: LogLevel;
  /** The console: human lines, coloured when `tty` (and no NO_COLOR), plain lines otherwise. */
  console?: { write(text: string): void; tty: boolean; color: boolean } | undefined;
  /** JSON lines to a size-rotated file (`logging.filename`, `max_size_mb`, `max_backups`, `compress`). */
  file?: { path: string; maxBytes: number; maxBackups: number; compress: boolean } | undefined;
  /**
   * Whether records go to telemetry (`observability.enabled`). Lines written before {@link RackLogger.attach}
   * are held (at most {@link EARLY_LINES}) and sent with their own time once telemetry exists.
   */
  telemetry: boolean;
  /** Told every warn and error line as written (e.g. to keep the last few in `fluxrig status`). */
  onProblem?:
    | ((line: { level: "warn" | "error"; scope: string; message: string; ts: number }) => void)
    | undefined;
}

/** Lines held for telemetry while the rack has none yet (before its passport and bus connection). */
export const EARLY_LINES = 1_000;

interface HeldLine {
  level: LogLevel;
  message: string;
  attributes: LogAttributes;
  fluxId: string | null;
  ts: number;
}

const RANK = Object.fromEntries(LOG_LEVELS.map((level, i) => [level, i])) as Record<LogLevel, number>;

/** The rack's root log: a {@link Logger} that also takes its telemetry once it exists, and closes its file. */
export interface RackLogger extends Logger {
  /** From now on records also go to `telemetry` (held early lines first); undefined stops that. */
  attach(telemetry: Pick<Telemetry, "log"> | undefined): void;
  /** Flushes and closes the log file. Later lines still reach the console. */
  close(): Promise<void>;
  /** Changes the level from the next line on (a config reloaded on SIGHUP). */
  setLevel(level: LogLevel): void;
}

/**
 * Creates the rack's log: one place that every line of the agent and its gears goes through.
 *
 * @example
 * const log = createRackLogger({ level: "info", telemetry: true,
 *   console: { write: (t) => process.stderr.write(t), tty: false, color: false },
 *   file: { path: "data/logs/fluxrig-rack.log", maxBytes: 100 * 2 ** 20, maxBackups: 7, compress: true } });
 * log.info("connected");
 * log.child("rack-1/parser", { gear_id: "parser" }).warn("bad frame", { offset: 12 }, fluxId);
 * log.attach(telemetry);
 * await log.close();
 */
export function createRackLogger(options: RackLoggerOptions): RackLogger {
  const core = new LogCore(options);
  const root = view(core, "", {}, false) as RackLogger;
  root.attach = (telemetry) => core.attach(telemetry);
  root.close = () => core.close();
  root.setLevel = (level) => core.setLevel(level);
  return root;
}

/** The sinks behind every view of one rack's log. */
class LogCore {
  #threshold: number;
  readonly #onProblem: RackLoggerOptions["onProblem"];
  readonly #console: RackLoggerOptions["console"];
  readonly #file: RotatingFile | undefined;
  readonly #json: pino.Logger | undefined;
  #telemetry: Pick<Telemetry, "log"> | undefined;
  /** Lines for telemetry before it exists; undefined once attached (or when telemetry is off). */
  #held: HeldLine[] | undefined;
  #heldDropped = 0;

  constructor(options: RackLoggerOptions) {
    this.#threshold = RANK[options.level];
    this.#console = options.console;
    this.#onProblem = options.onProblem;
    this.#held = options.telemetry ? [] : undefined;
    if (options.file) {
      const file = openRotatingFile({
        ...options.file,
        warn: (message) => this.#writeConsole("warn", "", message),
      });
      this.#file = file;
      this.#json = pino(
        {
          level: "trace",
          messageKey: "msg",
          timestamp: pino.stdTimeFunctions.isoTime,
          formatters: { level: (label) => ({ level: label }) },
        },
        { write: (line: string) => file.write(line) },
      );
    }
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#threshold;
  }

  setLevel(level: LogLevel): void {
    this.#threshold = RANK[level];
  }

  write(
    level: LogLevel,
    scope: string,
    message: string,
    attributes: LogAttributes,
    fluxId: string | null,
    local: boolean,
  ): void {
    if (!this.enabled(level)) return;
    // Lines quote snake.url and other URLs, which may carry credentials (nats://user:pass@host).
    const text = redactUrls(message);
    this.#writeConsole(level, scope, text);
    this.#json?.[level](fluxId ? merge(attributes, { flux_id: fluxId }) : attributes, text);
    if (!local) this.#toTelemetry({ level, message: text, attributes, fluxId, ts: Date.now() });
    if ((level === "warn" || level === "error") && this.#onProblem) {
      this.#onProblem({ level, scope, message: text, ts: Date.now() });
    }
  }

  attach(telemetry: Pick<Telemetry, "log"> | undefined): void {
    this.#telemetry = telemetry;
    const held = this.#held;
    this.#held = undefined;
    if (!telemetry || !held) return;
    if (this.#heldDropped > 0) {
      this.#toTelemetry({
        level: "warn",
        message: `${this.#heldDropped} early log line(s) not sent to telemetry: more than ${EARLY_LINES} came before it started`,
        attributes: {},
        fluxId: null,
        ts: held[0]?.ts ?? Date.now(),
      });
    }
    for (const line of held) this.#toTelemetry(line);
  }

  async close(): Promise<void> {
    this.#telemetry = undefined;
    this.#held = undefined;
    await this.#file?.end();
  }

  #toTelemetry(line: HeldLine): void {
    if (this.#telemetry) {
      // Telemetry's log levels stop at debug.
      const level = line.level === "trace" ? "debug" : line.level;
      void this.#telemetry.log(level, line.message, line.attributes, line.fluxId, line.ts);
    } else if (this.#held) {
      if (this.#held.length < EARLY_LINES) this.#held.push(line);
      else this.#heldDropped++;
    }
  }

  #writeConsole(level: LogLevel, scope: string, message: string): void {
    const out = this.#console;
    if (out) out.write(consoleLine(new Date(), level, scope, message, out));
  }
}

function view(core: LogCore, scope: string, attributes: LogAttributes, local: boolean): Logger {
  const write = (level: LogLevel, message: string, extra: LogAttributes = {}, fluxId: string | null = null) =>
    core.write(level, scope, message, merge(attributes, extra), fluxId, local);
  const line =
    (level: LogLevel): LineMethod =>
    (message, extra, fluxId) =>
      write(level, message, extra, fluxId);
  let localView: Logger | undefined;
  return {
    trace: line("trace"),
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    write,
    enabled: (level) => core.enabled(level),
    child: (name, more = {}) =>
      view(core, scope ? `${scope}/${name}` : name, { ...attributes, ...more }, local),
    get local() {
      localView ??= local ? this : view(core, scope, attributes, true);
      return localView;
    },
  };
}
