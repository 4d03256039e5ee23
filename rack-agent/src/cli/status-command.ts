import { join } from "node:path";
import { type Command, Option } from "commander";
import { formatDuration, type LoadedConfig, type RackConfig } from "../../../shared/config/index.ts";
import { readStatusFile, STATUS_EVERY_MS, STATUS_FILE } from "../agent/status-file.ts";
import { spoolEntries } from "../telemetry/index.ts";
import { textTable } from "./text-table.ts";

/** What `fluxrig status` found: the agent's status file, checked against its process and the spool on disk. */
interface LocalStatus {
  state_dir: string;
  status_file: string;
  /** `running`, `stopped` (a clean stop), or `not running` (its process is gone without saying so). */
  agent: "running" | "stopped" | "not running";
  /** Seconds since the agent last wrote the file; `stale` past three of its intervals. */
  age_s: number;
  stale: boolean;
  status: NonNullable<Awaited<ReturnType<typeof readStatusFile>>>;
  /** Counted from the spool directories now, running agent or not. */
  spool_on_disk: Record<"telemetry" | "journal", { batches: number; records: number; bytes: number }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but runs as another user (the service's own).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function onDisk(dir: string) {
  const entries = await spoolEntries(dir);
  return {
    batches: entries.length,
    records: entries.reduce((sum, e) => sum + e.records, 0),
    bytes: entries.reduce((sum, e) => sum + e.bytes, 0),
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 1)} MiB`;
const at = (ms: number) => new Date(ms).toISOString();

function describe(local: LocalStatus): string {
  const { status } = local;
  const { rack, bus, spool, scenario } = status;
  const uptime = formatDuration(
    Math.max(0, Math.round((status.written_at - status.started_at) / 1_000) * 1_000),
  );
  const busSince = `since ${at(bus.since)}`;
  const rows: [string, string][] = [
    ["rack", `${rack.name}${rack.rack_id ? ` (id ${rack.rack_id})` : ""}`],
    ["identity key", rack.identity_key],
    [
      "enrollment",
      `${rack.enrollment}${rack.passport_issued_at ? ` (passport issued ${at(rack.passport_issued_at)})` : ""}`,
    ],
    [
      "agent",
      `${local.agent}, pid ${status.pid}, version ${status.agent_version}, up ${uptime} when last written`,
    ],
    [
      "status written",
      `${at(status.written_at)} (${local.age_s} s ago${local.stale ? ", stale: the agent stopped writing it" : ""})`,
    ],
    ["bus", `${bus.connected ? "connected to" : "not connected to"} ${bus.url} ${busSince}`],
    ...(["telemetry", "journal"] as const).map((kind): [string, string] => {
      const disk = local.spool_on_disk[kind];
      const sent = status.spool[kind];
      return [
        `spool ${kind}`,
        `${disk.records} records in ${disk.batches} batches, ${mib(disk.bytes)} of ${mib(spool.max_bytes)}` +
          (sent ? `; ${sent.records_sent} sent, ${sent.records_dropped} dropped since start` : ""),
      ];
    }),
    ["gears", status.gears],
    [
      "scenario",
      scenario
        ? `${scenario.name} (${scenario.hash.slice(0, 12)}) ${scenario.state}${scenario.error ? `: ${scenario.error}` : ""}`
        : "-",
    ],
    ...Object.entries(scenario?.gears ?? {}).map(([gear, state]): [string, string] => [`  ${gear}`, state]),
    ["last errors", status.last_errors.length ? "" : "-"],
    ...status.last_errors.map((p): [string, string] => [
      `  ${at(p.ts)}`,
      `${p.level} ${p.scope ? `${p.scope}: ` : ""}${p.message}`,
    ]),
  ];
  return textTable(rows);
}

/**
 * `fluxrig status [-o table|json]`: the local rack as its running agent last described it in
 * `<base.state_dir>/status.json` (rewritten every 5 s), with the spool counted on disk. Needs no mixer and no
 * bus; it says how old the file is and whether the agent's process is still there.
 */
export function addStatusCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void },
): void {
  program
    .command("status")
    .description("the local rack: identity, enrollment, bus, spool, gears and last errors (no mixer needed)")
    .addOption(
      new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"),
    )
    .action(async (options: { output: "table" | "json" }) => {
      const { config } = await loadRack();
      const stateDir = config.base.state_dir;
      const status = await readStatusFile(stateDir);
      const file = join(stateDir, STATUS_FILE);
      if (!status) {
        throw new Error(
          `no ${file}: no agent has run with base.state_dir = ${stateDir} (set --config or FLUXRIG_BASE_STATE_DIR to the rack's)`,
        );
      }
      const age = Date.now() - status.written_at;
      const running = status.agent === "running" && alive(status.pid);
      const local: LocalStatus = {
        state_dir: stateDir,
        status_file: file,
        agent: status.agent === "stopped" ? "stopped" : running ? "running" : "not running",
        age_s: Math.max(0, Math.round(age / 1_000)),
        stale: status.agent === "running" && age > 3 * STATUS_EVERY_MS,
        status,
        spool_on_disk: {
          telemetry: await onDisk(join(stateDir, "spool", "telemetry")),
          journal: await onDisk(join(stateDir, "spool", "journal")),
        },
      };
      io.out(options.output === "json" ? `${JSON.stringify(local, null, 2)}\n` : describe(local));
    });
}
