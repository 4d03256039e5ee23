import { setTimeout as sleep } from "node:timers/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import { QUERY_LIMITS } from "../../../../shared/telemetry/query-params.ts";
import { addMixerApiOptions, type MixerApi, type MixerApiOptions, mixerApi } from "../mixer-api.ts";

/** What the query commands need from the program. */
export interface QueryIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const OUTPUTS = ["table", "json", "ndjson"] as const;
export type Output = (typeof OUTPUTS)[number];

/** Options every query command takes. */
export interface QueryOptions extends MixerApiOptions {
  since?: string;
  until?: string;
  limit: number;
  output: Output;
}

/**
 * A whole-number option parser for commander.
 *
 * @example command.option("--limit <n>", "max results", wholeNumber("--limit", 1), 50)
 */
export function wholeNumber(flag: string, min: number) {
  return (text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} takes a whole number of at least ${min}, got "${text}"`);
    }
    return n;
  };
}

/**
 * Adds the window, limit, output and API options shared by `fluxrig logs|metrics|traces`.
 *
 * @example addQueryOptions(program.command("logs"), "log records")
 */
export function addQueryOptions(
  command: Command,
  what: string,
  maxLimit: number = QUERY_LIMITS.maxLimit,
): Command {
  return addMixerApiOptions(
    command
      .option("--since <time>", "start: a duration back from now (30m, 1h, 7d) or an ISO/RFC 3339 time")
      .option("--until <time>", "end (exclusive), the same forms (default: now)")
      .option(
        "--limit <n>",
        `max ${what}, at most ${maxLimit}`,
        wholeNumber("--limit", 1),
        QUERY_LIMITS.defaultLimit,
      )
      .addOption(
        new Option("-o, --output <format>", "table, json (the API's answer) or ndjson (one line each)")
          .choices(OUTPUTS)
          .default("table"),
      ),
  );
}

/**
 * The mixer's API client for a command: URL and token from its options, the environment or the local
 * mixer's files.
 *
 * @example const api = await queryApi(loadRack, command.opts(), io);
 */
export async function queryApi(
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  options: MixerApiOptions,
  io: QueryIo,
): Promise<MixerApi> {
  const { config } = await loadRack();
  return mixerApi(options, io.env, config.store.dir);
}

/**
 * An API path with the defined parameters as its query string.
 *
 * @example apiPath("/api/v1/telemetry/logs", { level: "error", q: undefined }) // ".../logs?level=error"
 */
export function apiPath(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams(
    Object.entries(params).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])),
  ).toString();
  return query ? `${path}?${query}` : path;
}

/** ANSI colours, or plain text when stdout is not a terminal or NO_COLOR is set. */
export function palette(io: QueryIo) {
  const on = process.stdout.isTTY === true && io.env.NO_COLOR === undefined && io.env.TERM !== "dumb";
  const code = (open: number) => (text: string) => (on ? `\u001b[${open}m${text}\u001b[0m` : text);
  return { red: code(31), yellow: code(33), green: code(32), cyan: code(36), dim: code(2), bold: code(1) };
}
export type Palette = ReturnType<typeof palette>;

/**
 * A number as people read it: at most 6 significant digits, no trailing zeros.
 *
 * @example formatNumber(0.1 + 0.2) // "0.3"
 */
export const formatNumber = (n: number): string => String(Number(n.toPrecision(6)));

/**
 * A duration in milliseconds with a unit that keeps it short.
 *
 * @example formatMs(1234.5) // "1.23 s"
 */
export function formatMs(ms: number): string {
  if (ms >= 1_000) return `${formatNumber(Number((ms / 1_000).toFixed(2)))} s`;
  return `${formatNumber(Number(ms.toFixed(ms < 10 ? 2 : 1)))} ms`;
}

/** Tells on stderr when the answer was cut short or there is more than was shown. */
export function reportLimits(
  io: QueryIo,
  answer: {
    truncated: boolean;
    truncated_reason?: string;
    scanned: { skipped: { key: string; reason: string }[] };
  },
): void {
  if (answer.truncated) io.err(`note: ${answer.truncated_reason}\n`);
  for (const { key, reason } of answer.scanned.skipped) io.err(`note: skipped ${key}: ${reason}\n`);
}

/** A stored record as a listing returns it: its time and the id that tells copies apart. */
interface Listed {
  ts: string;
  record_id: string;
}

/** A newest-first listing endpoint as `fluxrig logs` and `fluxrig messages` print it. */
export interface Listing<E extends Listed> {
  /** The API path with the command's filters and these window and paging parameters. */
  path(params: Record<string, string | number | undefined>): string;
  /** The records of an answer (newest first) and its `next`. */
  page(answer: unknown): { entries: E[]; next: string | null };
  /** Records (oldest first) as a table. */
  table(entries: readonly E[], colours: Palette): string;
}

/**
 * Prints the newest `--limit` records of the window oldest first (or the API's JSON), notes on stderr what
 * was left out, and with `--follow` then polls for new ones until Ctrl-C: each poll re-reads the last
 * minute (records are stored a flush after they happen) and prints only record ids not seen yet.
 *
 * @example await listAndFollow(command, api, io, options, { path, page, table });
 */
export async function listAndFollow<E extends Listed>(
  command: Command,
  api: MixerApi,
  io: QueryIo,
  options: QueryOptions & { follow?: boolean | undefined },
  listing: Listing<E>,
): Promise<void> {
  if (options.follow && options.output === "json") {
    command.error("error: --follow prints records as they come: use --output table or ndjson, not json");
  }
  const colours = palette(io);
  const print = (entries: readonly E[]) => {
    const chronological = [...entries].reverse();
    if (options.output === "ndjson") io.out(chronological.map((e) => `${JSON.stringify(e)}\n`).join(""));
    else if (chronological.length > 0) io.out(listing.table(chronological, colours));
  };
  const answer = await api.get<Parameters<typeof reportLimits>[1]>(
    listing.path({ since: options.since, until: options.until, limit: options.limit }),
  );
  const first = listing.page(answer);
  if (options.output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
  else print(first.entries);
  reportLimits(io, answer);
  if (first.next && !options.follow) {
    io.err(
      `note: the newest ${first.entries.length} shown; more with --limit (up to 1000) or a narrower --since\n`,
    );
  }
  if (options.follow) await follow(api, listing, first.entries, print);
}

const FOLLOW_EVERY_MS = 2_000;
/** Records reach storage a flush after they happen; a follow re-reads this far back so none slips by. */
const FOLLOW_LAG_MS = 60_000;

async function follow<E extends Listed>(
  api: MixerApi,
  listing: Listing<E>,
  printed: readonly E[],
  print: (entries: readonly E[]) => void,
): Promise<void> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once("SIGINT", onSigint);
  const seen = new Map(printed.map((entry) => [entry.record_id, Date.parse(entry.ts)]));
  let newest = Math.max(Date.now() - FOLLOW_LAG_MS, ...seen.values());
  try {
    while (!stop.signal.aborted) {
      await sleep(FOLLOW_EVERY_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      const since = new Date(newest - FOLLOW_LAG_MS).toISOString();
      const fresh: E[] = [];
      let cursor: string | null = null;
      do {
        const page = listing.page(
          await api.get(listing.path({ since, limit: 1_000, cursor: cursor ?? undefined })),
        );
        fresh.push(...page.entries.filter((entry) => !seen.has(entry.record_id)));
        cursor = page.next;
      } while (cursor);
      for (const entry of fresh) seen.set(entry.record_id, Date.parse(entry.ts));
      newest = Math.max(newest, ...fresh.map((entry) => Date.parse(entry.ts)));
      for (const [id, ts] of seen) if (ts < newest - 2 * FOLLOW_LAG_MS) seen.delete(id);
      print(fresh);
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
}
