import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { ProgramIo } from "../../../shared/cli/configured-program.ts";
import type { FlagValue, LoadedConfig, MixerConfig } from "../../../shared/config/index.ts";
import { PROJECT_ROOT, runWrangler } from "../dev/wrangler-process.ts";
import { DEFAULT_KEYS_DIR } from "../keys/keys-command.ts";
import { deployMixer } from "./deploy.ts";

interface DeployOptions {
  dryRun?: boolean;
  keysDir: string;
  outDir?: string;
  d1Database?: string;
  r2Bucket?: string;
}

/** `fluxrig-mixer deploy` (and `npm run deploy`): see {@link deployMixer}. */
export function addDeployCommand(
  program: Command,
  loadMixer: () => Promise<LoadedConfig<MixerConfig> & { file?: string }>,
  flags: () => FlagValue[],
  io: ProgramIo,
): void {
  program
    .command("deploy")
    .description(
      "deploy the mixer to Cloudflare: D1 database and R2 bucket (created if missing), remote migrations, " +
        "missing secrets, the config, wrangler deploy",
    )
    .option("--dry-run", "print every step and build the bundle, without any network")
    .option(
      "--keys-dir <dir>",
      "secrets the Worker lacks come from here, or are generated here",
      DEFAULT_KEYS_DIR,
    )
    .option("--out-dir <dir>", "where the deploy's wrangler.toml and bundle go (default .wrangler/deploy)")
    .option("--d1-database <name>", "the D1 database's name (default: wrangler.toml's)")
    .option("--r2-bucket <name>", "the R2 bucket's name (default: wrangler.toml's)")
    .action(async (options: DeployOptions) => {
      const loaded = await loadMixer();
      for (const warning of loaded.warnings) io.err(`warning: ${warning}\n`);
      const cwd = process.cwd();
      await deployMixer({
        loaded,
        ...(loaded.file ? { fileText: await readFile(loaded.file, "utf8") } : {}),
        flags: flags(),
        env: io.env,
        cwd,
        root: PROJECT_ROOT,
        outDir: options.outDir ? resolve(cwd, options.outDir) : join(PROJECT_ROOT, ".wrangler", "deploy"),
        keysDir: resolve(cwd, options.keysDir),
        dryRun: options.dryRun === true,
        ...(options.d1Database ? { databaseName: options.d1Database } : {}),
        ...(options.r2Bucket ? { bucketName: options.r2Bucket } : {}),
        say: (line) => io.out(`${line}\n`),
        wrangler: (args) => runWrangler(args, PROJECT_ROOT),
      });
    });
}
