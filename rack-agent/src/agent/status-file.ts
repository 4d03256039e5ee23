import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { GEAR_STATES, scenarioReportSchema } from "../../../shared/control/heartbeat.ts";
import { RACK_STATUSES } from "../../../shared/passport/index.ts";
import { writeDurably } from "../fs/write-durably.ts";

/** `<base.state_dir>/status.json`: what the running agent last said about itself, for `fluxrig status`. */
export const STATUS_FILE = "status.json";

/** How often the running agent rewrites it; `fluxrig status` calls it stale past three of these. */
export const STATUS_EVERY_MS = 5_000;

/** How many recent warn and error lines it keeps. */
export const RECENT_PROBLEMS = 10;

const pipelineSchema = z.object({
  records_sent: z.number(),
  records_spooled: z.number(),
  records_dropped: z.number(),
  spool_batches: z.number(),
  spool_bytes: z.number(),
});

/** The file's shape; `fluxrig status` refuses one that does not match, naming the field. */
export const rackStatusFileSchema = z.object({
  written_at: z.number(),
  pid: z.int(),
  agent_version: z.string(),
  started_at: z.number(),
  /** `running`, or `stopped` once the agent wrote its last status on a clean stop. */
  agent: z.enum(["running", "stopped"]),
  rack: z.object({
    name: z.string(),
    identity_key: z.string(),
    /** Null until a passport is held. */
    rack_id: z.string().nullable(),
    enrollment: z.enum([...RACK_STATUSES, "not enrolled"]),
    passport_issued_at: z.number().nullable(),
  }),
  bus: z.object({
    url: z.string(),
    connected: z.boolean(),
    /** When `connected` last changed (or the agent started). */
    since: z.number(),
  }),
  spool: z.object({
    max_bytes: z.number(),
    telemetry: pipelineSchema.nullable(),
    journal: pipelineSchema.nullable(),
  }),
  gears: z.enum(GEAR_STATES),
  scenario: scenarioReportSchema.nullable(),
  last_errors: z.array(
    z.object({ ts: z.number(), level: z.enum(["warn", "error"]), scope: z.string(), message: z.string() }),
  ),
});
export type RackStatusFile = z.infer<typeof rackStatusFileSchema>;
export type PipelineStatus = z.infer<typeof pipelineSchema>;

export type Problem = RackStatusFile["last_errors"][number];

/**
 * The last {@link RECENT_PROBLEMS} warn and error lines the agent wrote, for its status file.
 *
 * @example const problems = new RecentProblems(); rackLoggerFromConfig(loaded, out, (line) => problems.push(line));
 */
export class RecentProblems {
  readonly #lines: Problem[] = [];

  push(line: Problem): void {
    // A status file is a glance, not a log: long lines are cut.
    this.#lines.push({ ...line, message: line.message.slice(0, 500) });
    if (this.#lines.length > RECENT_PROBLEMS) this.#lines.shift();
  }

  list(): Problem[] {
    return [...this.#lines];
  }
}

/** Replaces the status file atomically, so a reader never sees half of one. */
export async function writeStatusFile(stateDir: string, status: RackStatusFile): Promise<void> {
  await writeDurably(stateDir, STATUS_FILE, `${JSON.stringify(status, null, 2)}\n`);
}

/**
 * The status file the agent last wrote, undefined when there is none; a malformed one is an error naming the
 * file and the field.
 */
export async function readStatusFile(stateDir: string): Promise<RackStatusFile | undefined> {
  const path = join(stateDir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = rackStatusFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join(".") || "(top)"}: ${issue?.message}`);
  }
  return parsed.data;
}
