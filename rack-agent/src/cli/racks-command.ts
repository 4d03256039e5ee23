import type { Command } from "commander";
import { formatDuration, type LoadedConfig, type RackConfig } from "../../../shared/config/index.ts";
import { RACK_ACTIONS } from "../../../shared/control/rack-actions.ts";
import { addMixerApiOptions, type MixerApi, type MixerApiOptions, mixerApi } from "./mixer-api.ts";
import { textTable as table } from "./text-table.ts";

/** The fields of `GET /api/v1/racks` that the CLI prints. */
interface Rack {
  id: string;
  name: string;
  status: string;
  stale: boolean;
  ip: string;
  version: string;
  labels: Record<string, string>;
  key_fingerprint: string;
  first_seen: string;
  last_seen: string;
  heartbeat_interval: string;
  last_heartbeat: {
    uptime_ms?: number;
    gears?: string;
    counters?: Record<string, number>;
    scenario?: { name: string; hash: string; state: string; error?: string; gears?: Record<string, string> };
  } | null;
  passport_issued_at: string | null;
  secrets: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "12s ago", "3m4s ago": whole seconds are precise enough for an operator. */
function ago(iso: string): string {
  return `${formatDuration(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1_000) * 1_000))} ago`;
}

/** A rack by id, or by name (looked up in the list), as operators know racks by name. */
async function findRack(api: MixerApi, which: string): Promise<Rack> {
  if (UUID.test(which)) return api.get<Rack>(`/api/v1/racks/${which}`);
  const { racks } = await api.get<{ racks: Rack[] }>("/api/v1/racks");
  const rack = racks.find((r) => r.name === which);
  if (!rack) throw new Error(`no rack named ${which} at ${api.url} (fluxrig racks list shows them)`);
  return rack;
}

function scenarioLine(scenario: NonNullable<Rack["last_heartbeat"]>["scenario"]): string {
  if (!scenario) return "-";
  const failing = Object.values(scenario.gears ?? {}).filter((state) => state === "failing").length;
  return [
    `${scenario.name} (${scenario.hash.slice(0, 12)}) ${scenario.state}`,
    scenario.error ? `: ${scenario.error}` : "",
    failing ? `; ${failing} gear${failing === 1 ? "" : "s"} failing` : "",
  ].join("");
}

function describe(rack: Rack): string {
  const hb = rack.last_heartbeat;
  const lines: [string, string][] = [
    ["id", rack.id],
    ["name", rack.name],
    ["status", rack.status],
    ["stale", rack.stale ? "yes (no heartbeat for 3 intervals)" : "no"],
    ["ip", rack.ip],
    ["version", rack.version],
    [
      "labels",
      Object.entries(rack.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ") || "-",
    ],
    ["key", rack.key_fingerprint],
    ["first seen", rack.first_seen],
    ["last seen", `${rack.last_seen} (${ago(rack.last_seen)})`],
    [
      "heartbeat",
      `every ${rack.heartbeat_interval}${hb ? `; uptime ${formatDuration(hb.uptime_ms ?? 0)}, gears ${hb.gears}, ${hb.counters?.heartbeats_sent ?? 0} sent` : "; none yet"}`,
    ],
    ["scenario", scenarioLine(hb?.scenario)],
    ...Object.entries(hb?.scenario?.gears ?? {}).map(([gear, state]): [string, string] => [
      `  ${gear}`,
      state,
    ]),
    ["passport", rack.passport_issued_at ? `issued ${rack.passport_issued_at}` : "-"],
    ["secrets", rack.secrets.join(", ") || "-"],
  ];
  return table(lines.map(([k, v]) => [k, v]));
}

/**
 * `fluxrig racks list|show|approve|suspend|revoke`: the registry through the mixer's API. A rack is named by
 * id or by name.
 */
export function addRacksCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void; env: Record<string, string | undefined> },
): void {
  const racks = addMixerApiOptions(
    program
      .command("racks")
      .description("list racks and approve, suspend or revoke them (the mixer's registry)"),
  );
  const api = async () => {
    const { config } = await loadRack();
    return mixerApi(racks.opts<MixerApiOptions>(), io.env, config.store.dir);
  };

  racks
    .command("list")
    .description("every rack with its status and when it was last heard from")
    .option("--status <status>", "only racks in this status: pending, active, suspended, revoked")
    .option("--json", "print the API's JSON")
    .action(async (options: { status?: string; json?: boolean }) => {
      const query = options.status ? `?status=${encodeURIComponent(options.status)}` : "";
      const { racks: list } = await (await api()).get<{ racks: Rack[] }>(`/api/v1/racks${query}`);
      if (options.json) return io.out(`${JSON.stringify(list, null, 2)}\n`);
      if (list.length === 0) return io.out("no racks enrolled yet\n");
      io.out(
        table([
          ["ID", "NAME", "STATUS", "IP", "VERSION", "LAST SEEN"],
          ...list.map((r) => [
            r.id,
            r.name,
            r.status,
            r.ip,
            r.version,
            `${ago(r.last_seen)}${r.stale ? " (stale)" : ""}`,
          ]),
        ]),
      );
    });

  racks
    .command("show")
    .description("one rack in full")
    .argument("<rack>", "rack id or name")
    .option("--json", "print the API's JSON")
    .action(async (which: string, options: { json?: boolean }) => {
      const rack = await findRack(await api(), which);
      io.out(options.json ? `${JSON.stringify(rack, null, 2)}\n` : describe(rack));
    });

  for (const [action, status] of Object.entries(RACK_ACTIONS)) {
    racks
      .command(action)
      .description(`make a rack ${status}; it gets a re-signed passport over NATS`)
      .argument("<rack>", "rack id or name")
      .action(async (which: string) => {
        const client = await api();
        const rack = await findRack(client, which);
        const after = await client.post<Rack>(`/api/v1/racks/${rack.id}/${action}`);
        io.out(
          after.status === rack.status
            ? `rack ${after.name} (${after.id}) was already ${after.status}\n`
            : `rack ${after.name} (${after.id}) is now ${after.status} (was ${rack.status})\n`,
        );
      });
  }
}
