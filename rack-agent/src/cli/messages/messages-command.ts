import { type Command, InvalidArgumentError, Option } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import { PROMOTED_FILTERS } from "../../../../shared/journal/query-params.ts";
import type { MessageEntry, MessagesAnswer } from "../../../../shared/journal/query-results.ts";
import { JOURNAL_DIRECTIONS, JOURNAL_STATUSES } from "../../../../shared/journal/record.ts";
import {
  addQueryOptions,
  apiPath,
  listAndFollow,
  type Palette,
  type QueryIo,
  type QueryOptions,
  queryApi,
} from "../telemetry/query-command.ts";
import { textTable } from "../text-table.ts";

interface MessagesOptions extends QueryOptions {
  fluxId?: string;
  spec?: string;
  msgType?: string;
  status?: string;
  direction?: string;
  entity?: string;
  gear?: string;
  promoted?: string[];
  includeRaw?: boolean;
  follow?: boolean;
}

const MESSAGES = "/api/v1/messages";

/** Collects repeated `--promoted field=value` flags. */
function promotedFlag(text: string, previous: string[] | undefined): string[] {
  const at = text.indexOf("=");
  if (at <= 0) {
    throw new InvalidArgumentError(`--promoted takes field=value (e.g. currency=EUR), got "${text}"`);
  }
  return [...(previous ?? []), text];
}

function filters(options: MessagesOptions): Record<string, string | undefined> {
  return {
    flux_id: options.fluxId,
    spec: options.spec,
    msg_type: options.msgType,
    status: options.status,
    direction: options.direction,
    entity: options.entity,
    gear_id: options.gear,
    include_raw: options.includeRaw ? "true" : undefined,
    ...Object.fromEntries(
      (options.promoted ?? []).map((pair) => {
        const at = pair.indexOf("=");
        return [`${PROMOTED_FILTERS.prefix}${pair.slice(0, at)}`, pair.slice(at + 1)];
      }),
    ),
  };
}

/** A hop as people read it: `src → dst`, with `(in)`/`(out)` where the message came from or left the platform. */
export const hopText = (message: Pick<MessageEntry, "src_gear_id" | "dst_gear_id">): string =>
  `${message.src_gear_id ?? "(in)"} → ${message.dst_gear_id ?? "(out)"}`;

/** The promoted fields as `k=v` pairs (strings bare, other values as JSON). */
export const promotedText = (promoted: MessageEntry["promoted"]): string =>
  Object.entries(promoted ?? {})
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");

function messageTable(messages: readonly MessageEntry[], colours: Palette): string {
  const rows = messages.map((m) => [
    m.ts,
    m.entity_name,
    hopText(m),
    m.direction,
    m.status,
    m.msg_type,
    m.spec ?? "generic",
    m.flux_id,
    promotedText(m.promoted),
  ]);
  return textTable(
    [["TIME", "ENTITY", "HOP", "DIRECTION", "STATUS", "TYPE", "SPEC", "FLUX ID", "PROMOTED"], ...rows],
    (text, r, column) =>
      r === 0
        ? colours.bold(text)
        : column === 4 && messages[r - 1]?.status === "error"
          ? colours.red(text)
          : column === 0 || column === 8
            ? colours.dim(text)
            : text,
  );
}

/**
 * `fluxrig messages`: stored business messages (the journal) from the mixer, newest `--limit` of the window,
 * printed oldest first; with `--follow`, then new ones as they are stored.
 */
export function addMessagesCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: QueryIo,
): void {
  const messages = addQueryOptions(
    program
      .command("messages")
      .description(
        "query business messages journaled by the racks (newest --limit of the window, printed oldest first)",
      )
      .option("--flux-id <uuid>", "only the messages of this business signal")
      .option(
        "--spec <spec_id>",
        "only messages a fluxSpec describes (messages/fluxSpec/<spec>/), e.g. visa-v1",
      )
      .option("--msg-type <type>", "only this message type (e.g. 0100)")
      .addOption(new Option("--status <status>", "only messages that ended so").choices(JOURNAL_STATUSES))
      .addOption(
        new Option("--direction <direction>", "only messages crossing so").choices(JOURNAL_DIRECTIONS),
      )
      .option("--entity <name>", "only this rack's messages (its name)")
      .option("--gear <gear_id>", "only messages from or to this gear")
      .option(
        "--promoted <field=value>",
        `only messages whose promoted field has this value (text of its JSON value); repeatable, up to ${PROMOTED_FILTERS.max}`,
        promotedFlag,
      )
      .option("--include-raw", "also fetch raw_msg (the stored fluxMsg, base64) for json/ndjson output")
      .option("-f, --follow", "keep printing new messages until Ctrl-C"),
    "messages",
  );
  messages.addHelpText(
    "after",
    `
Examples:
  fluxrig messages --status error --since 1h
  fluxrig messages --spec visa-v1 --promoted currency=EUR --promoted amount=1250
  fluxrig messages --gear hsm -o ndjson --include-raw
  fluxrig messages -f --entity rack-nyc-01

Then follow one message's business signal end to end: fluxrig flux <FLUX ID>
`,
  );
  messages.action(async (options: MessagesOptions) => {
    const api = await queryApi(loadRack, options, io);
    await listAndFollow(messages, api, io, options, {
      path: (params) => apiPath(MESSAGES, { ...filters(options), ...params }),
      page: (answer) => ({
        entries: (answer as MessagesAnswer).messages,
        next: (answer as MessagesAnswer).next,
      }),
      table: messageTable,
    });
  });
}
