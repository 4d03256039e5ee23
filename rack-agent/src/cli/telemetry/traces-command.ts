import type { Command } from "commander";
import { Option } from "commander";
import type { LoadedConfig, RackConfig } from "../../../../shared/config/index.ts";
import type { TraceAnswer, TraceSpan, TracesAnswer } from "../../../../shared/telemetry/query-results.ts";
import { SPAN_STATUSES } from "../../../../shared/telemetry/records.ts";
import { textTable } from "../text-table.ts";
import {
  addQueryOptions,
  apiPath,
  formatMs,
  type Palette,
  palette,
  type QueryIo,
  type QueryOptions,
  queryApi,
  reportLimits,
} from "./query-command.ts";

interface TracesOptions extends QueryOptions {
  fluxId?: string;
  status?: string;
  minDuration?: string;
  entity?: string;
}

const TRACES = "/api/v1/telemetry/traces";

/**
 * The tree's guide lines for each span of a depth-first list: `├─ ` before a child with later siblings,
 * `└─ ` before the last, and `│  ` below an ancestor that has more children to come.
 */
function guides(spans: readonly TraceSpan[]): string[] {
  const isLast = spans.map((span, i) => {
    for (const later of spans.slice(i + 1)) {
      if (later.depth < span.depth) return true;
      if (later.depth === span.depth) return false;
    }
    return true;
  });
  const open: boolean[] = [];
  return spans.map((span, i) => {
    open.length = Math.max(0, span.depth - 1);
    const prefix = open.map((more) => (more ? "│  " : "   ")).join("");
    if (span.depth > 0) open.push(!isLast[i]);
    return span.depth === 0 ? "" : `${prefix}${isLast[i] ? "└─ " : "├─ "}`;
  });
}

/**
 * Spans (depth-first, as the API answers them) as an indented tree: name, duration, status, entity, and
 * start relative to the first span's.
 *
 * @example io.out(spanTreeTable(answer.spans, palette(io)));
 */
export function spanTreeTable(spans: readonly TraceSpan[], colours: Palette): string {
  const start = Math.min(...spans.map((span) => Date.parse(span.ts)));
  const lines = guides(spans);
  const rows = spans.map((span, i) => [
    `${lines[i]}${span.span_name}${span.orphan ? " (parent not stored)" : ""}`,
    formatMs(span.duration_ms),
    span.status,
    span.entity_name,
    `+${formatMs(Date.parse(span.ts) - start)}`,
  ]);
  return textTable(rows, (text, r, column) =>
    column === 2 && spans[r]?.status === "error"
      ? colours.red(text)
      : column === 4
        ? colours.dim(text)
        : text,
  );
}

/** A trace as an indented tree under a line naming it. */
function traceTree(answer: TraceAnswer, colours: Palette): string {
  const start = Math.min(...answer.spans.map((span) => Date.parse(span.ts)));
  const header = `trace ${answer.trace_id}: ${answer.spans.length} spans from ${new Date(start).toISOString()}\n`;
  return colours.bold(header) + spanTreeTable(answer.spans, colours);
}

function traceList(answer: TracesAnswer, colours: Palette): string {
  const rows = answer.traces.map((trace) => [
    trace.ts,
    trace.trace_id,
    formatMs(trace.duration_ms),
    trace.status,
    trace.span_name,
    trace.entity_name,
  ]);
  return textTable(
    [["START", "TRACE ID", "DURATION", "STATUS", "ROOT SPAN", "ENTITY"], ...rows],
    (text, r, column) =>
      r === 0
        ? colours.bold(text)
        : column === 3 && answer.traces[r - 1]?.status === "error"
          ? colours.red(text)
          : text,
  );
}

/** `fluxrig traces [trace_id]`: traces from the mixer, newest first, or one trace as a span tree. */
export function addTracesCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: QueryIo,
): void {
  const traces = addQueryOptions(
    program
      .command("traces")
      .description("query traces stored by the mixer: a list newest first, or one trace as a span tree")
      .argument("[trace_id]", "show this trace's spans as a tree (32 hex digits)")
      .option("--flux-id <uuid>", "only traces whose root span carries this flux id")
      .addOption(
        new Option("--status <status>", "only traces whose root span ended so").choices(SPAN_STATUSES),
      )
      .option("--min-duration <ms>", "only traces lasting at least this many milliseconds")
      .option("--entity <name>", "only traces whose root span is this entity's"),
    "traces",
  );
  traces.action(async (traceId: string | undefined, options: TracesOptions) => {
    const api = await queryApi(loadRack, options, io);
    const colours = palette(io);
    const window = { since: options.since, until: options.until };
    if (traceId) {
      const answer = await api.get<TraceAnswer>(apiPath(`${TRACES}/${encodeURIComponent(traceId)}`, window));
      if (options.output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
      else if (options.output === "ndjson")
        io.out(answer.spans.map((span) => `${JSON.stringify(span)}\n`).join(""));
      else io.out(traceTree(answer, colours));
      reportLimits(io, answer);
      return;
    }
    const answer = await api.get<TracesAnswer>(
      apiPath(TRACES, {
        ...window,
        flux_id: options.fluxId,
        status: options.status,
        min_duration_ms: options.minDuration,
        entity: options.entity,
        limit: options.limit,
      }),
    );
    if (options.output === "json") io.out(`${JSON.stringify(answer, null, 2)}\n`);
    else if (options.output === "ndjson")
      io.out(answer.traces.map((trace) => `${JSON.stringify(trace)}\n`).join(""));
    else if (answer.traces.length === 0)
      io.err(`no traces from ${answer.window.since} to ${answer.window.until}\n`);
    else io.out(traceList(answer, colours));
    reportLimits(io, answer);
  });
}
