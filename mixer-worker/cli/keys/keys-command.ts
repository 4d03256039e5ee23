import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import type { ProgramIo } from "../../../shared/cli/configured-program.ts";
import type { LoadedConfig, MixerConfig } from "../../../shared/config/index.ts";
import { operatorModeConfig, parseNatsKeys } from "../../../shared/nats-auth/index.ts";
import {
  clusterKeyFingerprint,
  enrollmentTokenSecret,
  localSecret,
  mixerSecrets,
  NATS_KEYS,
} from "./mixer-secrets.ts";

/** Where `keys init` and `deploy` keep production secrets unless told otherwise (not the dev store dir). */
export const DEFAULT_KEYS_DIR = "fluxrig-keys";
/**
 * nats-server's lines for operator mode, beside the keys: public JWTs only (operator, accounts), so it may be
 * shared with whoever runs the NATS cluster; the `full` resolver keeps its store in `resolver/` of the server's
 * working directory.
 */
export const NATS_OPERATOR_CONF = "nats-operator.conf";

/**
 * `fluxrig-mixer keys init`: makes every secret the mixer needs (`mixerSecrets`) into files under `--dir`
 * (mode 0600, an existing one is kept), and prints their names and files, never their values. `--json`
 * prints `{name: value}` for `wrangler secret bulk`, and is refused on a terminal, where it would end up in
 * scrollback and screen recordings.
 */
export function addKeysCommand(
  program: Command,
  loadMixer: () => Promise<LoadedConfig<MixerConfig>>,
  io: ProgramIo & { stdoutIsTty: boolean },
): void {
  program
    .command("keys")
    .description("the mixer's secrets (cluster key, API token, bootstrap token)")
    .command("init")
    .description(
      "make the secrets the mixer needs into files (mode 0600; existing ones are kept) for deploy or wrangler secret",
    )
    .option(
      "--dir <dir>",
      "where to write them (use store.dir, ./data, for fluxrig-mixer dev)",
      DEFAULT_KEYS_DIR,
    )
    .option("--json", "print {name: value} on stdout for `wrangler secret bulk` (refused on a terminal)")
    .action(async (options: { dir: string; json?: boolean }) => {
      if (options.json && io.stdoutIsTty) {
        throw new Error(
          "keys init --json prints the secrets themselves: pipe it (| npx wrangler secret bulk)",
        );
      }
      const { config } = await loadMixer();
      const values: Record<string, string> = {};
      const lines: string[] = [];
      for (const spec of mixerSecrets(config)) {
        // The files are the product here: a variable of the same name does not stand in for one.
        const secret = await localSecret(options.dir, spec, {});
        values[spec.env] = secret.value;
        lines.push(`${spec.env.padEnd(36)} ${secret.source}   ${spec.description}`);
        if (spec.env === "MIXER_CLUSTER_KEY") {
          const fingerprint = await clusterKeyFingerprint(secret.value, secret.source);
          lines.push(`${"".padEnd(36)} fingerprint ${fingerprint} (racks: rack.cluster_key_fingerprint)`);
        }
        if (spec.env === NATS_KEYS.env) {
          // For the racks, not the Worker: made with these keys, so kept beside them and never uploaded.
          const keys = parseNatsKeys(secret.value, secret.source);
          const token = await localSecret(options.dir, enrollmentTokenSecret(keys), {});
          lines.push(`${"".padEnd(36)} racks' FLUXRIG_SNAKE_ENROLLMENT_TOKEN: ${token.source}`);
          const conf = join(options.dir, NATS_OPERATOR_CONF);
          await writeFile(conf, `${(await operatorModeConfig(keys, "resolver")).join("\n")}\n`, {
            mode: 0o644,
          });
          lines.push(`${"".padEnd(36)} nats-server: include ${conf} in its config (operator mode)`);
        }
      }
      if (options.json) {
        io.out(`${JSON.stringify(values)}\n`);
        io.err(`${lines.join("\n")}\n`);
        return;
      }
      io.out(
        [
          ...lines,
          "",
          `Upload: npx fluxrig-mixer deploy --keys-dir ${options.dir}   (uploads those the Worker lacks)`,
          `    or: npx fluxrig-mixer keys init --dir ${options.dir} --json | npx wrangler secret bulk`,
          "",
        ].join("\n"),
      );
    });
}
