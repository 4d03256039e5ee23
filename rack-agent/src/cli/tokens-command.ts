import { type Command, Option } from "commander";
import { API_SCOPES } from "../../../shared/auth/api-scopes.ts";
import type { LoadedConfig, RackConfig } from "../../../shared/config/index.ts";
import { type Output, outputOption, printList } from "./list-output.ts";
import { addMixerApiOptions, type MixerApi, type MixerApiOptions, mixerApi } from "./mixer-api.ts";
import { textTable as table } from "./text-table.ts";

/** A token as `GET /api/v1/tokens` shows it: never the token itself. */
interface ApiToken {
  name: string;
  scope: string;
  status: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

/**
 * `fluxrig tokens create|list|revoke`: scoped API tokens (admin only). `create` prints the token once, on
 * stdout, with a warning on stderr to store it: the mixer keeps only its hash.
 */
export function addTokensCommand(
  program: Command,
  loadRack: () => Promise<LoadedConfig<RackConfig>>,
  io: { out: (text: string) => void; err: (text: string) => void; env: Record<string, string | undefined> },
): void {
  const tokens = program
    .command("tokens")
    .description("scoped API tokens: read (look), operate (approve, suspend, activate, import), admin (all)");
  const api = async (command: Command): Promise<MixerApi> => {
    const { config } = await loadRack();
    return mixerApi(command.optsWithGlobals<MixerApiOptions>(), io.env, config.store.dir);
  };

  addMixerApiOptions(tokens.command("create").description("make a token; it is printed once, never again"))
    // `--name` is also the program's flag for base.name, which commander gives the program: read it there.
    .option("--name <name>", "what the token is for (grafana, ci); unique among live tokens")
    .addOption(new Option("--scope <scope>", "what it may do").choices(API_SCOPES).makeOptionMandatory())
    .option("--expires <duration>", "lifetime, e.g. 90d or 12h (default: never expires)")
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ name?: string; scope: string; expires?: string }>();
      if (!options.name) throw new Error("fluxrig tokens create needs --name NAME (what the token is for)");
      const made = await (await api(command)).post<ApiToken & { token: string }>("/api/v1/tokens", {
        name: options.name,
        scope: options.scope,
        ...(options.expires === undefined ? {} : { expires_in: options.expires }),
      });
      io.err(
        `token ${made.name} (scope ${made.scope}${made.expires_at ? `, expires ${made.expires_at}` : ", never expires"}) ` +
          "is printed below once: store it now (a secret manager, the client's config); the mixer keeps only its hash\n",
      );
      io.out(`${made.token}\n`);
    });

  addMixerApiOptions(
    tokens.command("list").description("every token with its scope and last use, never the token"),
  )
    .addOption(outputOption())
    .action(async (options: { output: Output }, command: Command) => {
      const answer = await (await api(command)).get<{ tokens: ApiToken[] }>("/api/v1/tokens");
      printList(io, options.output, answer.tokens, answer, () =>
        answer.tokens.length === 0
          ? "no API tokens yet (fluxrig tokens create --name NAME --scope read)\n"
          : table([
              ["NAME", "SCOPE", "STATUS", "CREATED", "LAST USED", "EXPIRES"],
              ...answer.tokens.map((t) => [
                t.name,
                t.scope,
                t.status,
                t.created_at,
                t.last_used_at ?? "never",
                t.expires_at ?? "never",
              ]),
            ]),
      );
    });

  addMixerApiOptions(tokens.command("revoke").description("revoke a token at once; revoked is final"))
    .argument("<name>", "the token's name")
    .action(async (name: string, _options: unknown, command: Command) => {
      const revoked = await (await api(command)).delete<ApiToken>(
        `/api/v1/tokens/${encodeURIComponent(name)}`,
      );
      io.out(`token ${revoked.name} (scope ${revoked.scope}) is revoked\n`);
    });
}
