import { type Command, Option } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import type { LogEntry, LogsAnswer } from "../../../../shared/telemetry/query-results.ts";
import { LOG_RECORD_LEVELS } from "../../../../shared/telemetry/records.ts";
import { textTable } from "../text-table.ts";
import {
  addQueryOptions,
  apiPath,
  listAndFollow,
  type Palette,
  type QueryIo,
  type QueryOptions,
  queryApi,
} from "./query-command.ts";

interface LogsOptions extends QueryOptions {
  minLevel?: string;
  entity?: string;
  gear?: string;
  fluxId?: string;
  query?: string;
  follow?: boolean;
}

const LOGS = "/api/v1/telemetry/logs";

function filters(options: LogsOptions) {
  return {
    level: options.minLevel,
    entity: options.entity,
    gear_id: options.gear,
    flux_id: options.fluxId,
    q: options.query,
  };
}

/** One line a record: time, level, entity, message (its line breaks shown as ⏎), then its attributes. */
export function logTable(logs: readonly LogEntry[], colours: Palette): string {
  const level = { debug: colours.dim, info: colours.green, warn: colours.yellow, error: colours.red };
  const rows = logs.map((log) => [
    log.ts,
    log.level.toUpperCase(),
    log.entity_name,
    [
      log.message.replace(/\r?\n/g, "⏎"),
      ...Object.entries(log.attributes).map(([k, v]) => colours.dim(`${k}=${JSON.stringify(v)}`)),
    ].join(" "),
  ]);
  return textTable(rows, (text, r, column) =>
    column === 0 ? colours.dim(text) : column === 1 ? level[logs[r]?.level ?? "info"](text) : text,
  );
}

/**
 * `fluxrig logs`: log records from the mixer, newest `--limit` of the window, printed oldest first; with
 * `--follow`, then new ones as they are stored.
 */
export function addLogsCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: QueryIo,
): void {
  const logs = addQueryOptions(
    program
      .command("logs")
      .description(
        "query log records stored by the mixer (newest --limit of the window, printed oldest first)",
      )
      .addOption(new Option("--min-level <level>", "this level and above").choices(LOG_RECORD_LEVELS))
      .option("--entity <name>", "only this entity (rack or host name)")
      .option("--gear <gear_id>", "only records whose attributes.gear_id is this")
      .option("--flux-id <uuid>", "only records of this business signal (a fluxMsg's id)")
      .option("-q, --query <text>", "only messages containing this text (any case)")
      .option("-f, --follow", "keep printing new records until Ctrl-C"),
    "records",
  );
  logs.addHelpText(
    "after",
    "\nExamples:\n  fluxrig logs --min-level error --since 1h\n  fluxrig logs --entity rack-nyc-01 --limit 100\n",
  );
  logs.action(async (options: LogsOptions) => {
    const api = await queryApi(loadRack, options, io);
    await listAndFollow(logs, api, io, options, {
      path: (params) => apiPath(LOGS, { ...filters(options), ...params }),
      page: (answer) => ({ entries: (answer as LogsAnswer).logs, next: (answer as LogsAnswer).next }),
      table: logTable,
    });
  });
}
