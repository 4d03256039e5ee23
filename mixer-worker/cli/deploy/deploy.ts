import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import {
  type FlagValue,
  type LoadedConfig,
  loadConfig,
  type MixerConfig,
  mixerConfigSchema,
  referencedVariables,
} from "../../../shared/config/index.ts";
import { clusterKeyFingerprint, localSecret, mixerSecrets, secretSource } from "../keys/mixer-secrets.ts";
import { startupScenarioBase64 } from "../startup-scenario.ts";
import { bundleSize, WORKER_GZIP_LIMIT } from "./bundle-size.ts";
import { busUrlProblem } from "./bus-url.ts";
import { deployWranglerConfig, wranglerResources } from "./wrangler-config.ts";
import { d1DatabaseId, isMissingWorker, r2BucketNames, workerSecretNames } from "./wrangler-output.ts";

export interface DeployInput {
  loaded: LoadedConfig<MixerConfig> & { file?: string };
  /** The text of fluxrig-mixer.toml, shipped to the Worker as `MIXER_CONFIG_TOML`. */
  fileText?: string;
  flags: FlagValue[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** The project root, where wrangler.toml and the Worker's sources are. */
  root: string;
  /** Where the deploy's wrangler.toml, bundle and (briefly) secrets file are written. */
  outDir: string;
  /** Where secrets the Worker lacks are read from, or generated into (as `fluxrig-mixer keys init` does). */
  keysDir: string;
  dryRun: boolean;
  /** Override wrangler.toml's D1 database and R2 bucket names. */
  databaseName?: string;
  bucketName?: string;
  /** The plan and what each step found, for stdout (never a secret's value). */
  say: (line: string) => void;
  /** Runs wrangler (on this Node) with these arguments, resolving with its stdout. */
  wrangler: (args: string[]) => Promise<string>;
}

export interface DeployReport {
  databaseId?: string;
  /** The secrets uploaded with this deploy (names only). */
  secretsUploaded: string[];
  bundle: { bytes: number; gzipBytes: number };
}

const KIB = 1024;
const kib = (bytes: number) => `${(bytes / KIB).toFixed(0)} KiB`;
const shell = (args: string[]) => `wrangler ${args.join(" ")}`;

/**
 * `fluxrig-mixer deploy`: from a Cloudflare account to a running mixer. Checks or creates the D1 database and
 * the R2 bucket, writes a copy of wrangler.toml with their ids and the mixer's config, applies the registry
 * migrations remotely, uploads the secrets the Worker lacks (never replacing one it has: a new cluster key
 * would orphan every rack that pinned the old one) with `wrangler deploy`, and fails when the bundle is over
 * Cloudflare's 10 MiB gzipped. With `dryRun` it only prints each step and builds the bundle: no network.
 *
 * @example await deployMixer({ ...input, dryRun: true, wrangler: (args) => runWrangler(args, root) });
 */
export async function deployMixer(input: DeployInput): Promise<DeployReport> {
  const { say, dryRun } = input;
  const wranglerToml = await readFile(join(input.root, "wrangler.toml"), "utf8");
  const resources = wranglerResources(wranglerToml, join(input.root, "wrangler.toml"));
  const databaseName = input.databaseName ?? resources.databaseName;
  const bucketName = input.bucketName ?? resources.bucketName;
  const configPath = join(input.outDir, "wrangler.toml");
  const bundleDir = join(input.outDir, "bundle");
  const secretsPath = join(input.outDir, "secrets.json");
  // Absolute paths: wrangler resolves --outdir and the like against the config file's directory.
  const c = ["-c", configPath];
  const worker = await workerView(input);
  const report: DeployReport = { secretsUploaded: [], bundle: { bytes: 0, gzipBytes: 0 } };

  say(
    dryRun
      ? `deploy plan for Worker "${resources.workerName}" (dry run: nothing is sent to Cloudflare, nothing is generated)`
      : `deploying Worker "${resources.workerName}"`,
  );
  const busProblem = busUrlProblem(worker.config.snake.websocket_url);
  if (busProblem) {
    if (!dryRun) throw new Error(busProblem);
    say(`warning: ${busProblem}`);
  }

  const listD1 = ["d1", "list", "--json"];
  const createD1 = ["d1", "create", databaseName];
  say(
    `1. D1 database "${databaseName}" (binding REGISTRY): ${shell(listD1)}; if missing, ${shell(createD1)}`,
  );
  if (!dryRun) {
    report.databaseId = d1DatabaseId(await input.wrangler(listD1), databaseName);
    if (report.databaseId) say(`   found, id ${report.databaseId}`);
    else {
      await input.wrangler(createD1);
      report.databaseId = d1DatabaseId(await input.wrangler(listD1), databaseName);
      if (!report.databaseId)
        throw new Error(`created D1 database ${databaseName}, but d1 list does not show it`);
      say(`   created, id ${report.databaseId}`);
    }
  }

  const listR2 = ["r2", "bucket", "list"];
  const createR2 = ["r2", "bucket", "create", bucketName];
  say(`2. R2 bucket "${bucketName}" (binding TELEMETRY): ${shell(listR2)}; if missing, ${shell(createR2)}`);
  if (!dryRun) {
    if (r2BucketNames(await input.wrangler(listR2)).includes(bucketName)) say("   found");
    else {
      await input.wrangler(createR2);
      say("   created");
    }
  }

  say(
    `3. write ${relative(input.cwd, configPath)}: wrangler.toml with the database id, the bucket, and as plain ` +
      `variables ${Object.keys(worker.vars).join(", ") || "none (no config file: the Worker runs on defaults)"}`,
  );
  await mkdir(input.outDir, { recursive: true });
  await writeFile(
    configPath,
    deployWranglerConfig(wranglerToml, {
      root: input.root,
      dir: input.outDir,
      ...(report.databaseId ? { databaseId: report.databaseId } : {}),
      databaseName,
      bucketName,
      vars: worker.vars,
    }),
  );

  const migrate = ["d1", "migrations", "apply", "REGISTRY", "--remote", ...c];
  say(`4. registry migrations: ${shell(migrate)}`);
  if (!dryRun) await input.wrangler(migrate);

  const listSecrets = ["secret", "list", "--format", "json", ...c];
  const wanted = [
    ...mixerSecrets(worker.config).map((spec) => ({ name: spec.env, spec })),
    ...worker.referenced.map((name) => ({ name, spec: undefined })),
  ];
  say(`5. secrets: ${shell(listSecrets)}; the Worker's missing ones are uploaded with the deploy (step 6):`);
  const upload: Record<string, string> = {};
  let have: string[] = [];
  if (!dryRun) {
    have = await input.wrangler(listSecrets).then(workerSecretNames, (error: Error) => {
      if (isMissingWorker(error)) return [];
      throw error;
    });
  }
  for (const { name, spec } of wanted) {
    const what = spec ? spec.description : `referred to as \${${name}} in ${worker.fileName}`;
    if (have.includes(name)) {
      say(`   ${name}: the Worker has it (kept)`);
      continue;
    }
    if (!spec) {
      const value = input.env[name];
      if (value === undefined)
        throw new Error(`${worker.fileName} refers to \${${name}}: set ${name} to deploy`);
      if (dryRun) say(`   ${name} (${what}): from env ${name}`);
      else upload[name] = value;
      continue;
    }
    if (dryRun) {
      say(`   ${name} (${what}): from ${await secretSource(input.keysDir, spec, input.env)}`);
      continue;
    }
    const secret = await localSecret(input.keysDir, spec, input.env);
    upload[name] = secret.value;
    say(`   ${name} (${what}): from ${secret.source}`);
    if (name === "MIXER_CLUSTER_KEY") {
      const fingerprint = await clusterKeyFingerprint(secret.value, secret.source);
      say(`   cluster key fingerprint ${fingerprint} (racks: rack.cluster_key_fingerprint)`);
    }
  }
  report.secretsUploaded = Object.keys(upload);

  const deploy = [
    "deploy",
    ...c,
    "--outdir",
    bundleDir,
    ...(dryRun ? ["--dry-run"] : []),
    ...(report.secretsUploaded.length > 0 ? ["--secrets-file", secretsPath] : []),
  ];
  say(`6. ${dryRun ? "build the bundle" : "deploy"}: ${shell(deploy)}`);
  await rm(bundleDir, { recursive: true, force: true });
  try {
    if (report.secretsUploaded.length > 0) {
      await writeFile(secretsPath, JSON.stringify(upload), { mode: 0o600 });
    }
    const output = await input.wrangler(deploy);
    for (const line of output.split("\n"))
      if (/https:\/\/|Current Version ID/.test(line)) say(`   ${line.trim()}`);
  } finally {
    await rm(secretsPath, { force: true });
  }
  report.bundle = await bundleSize(bundleDir);
  const verdict = report.bundle.gzipBytes > WORKER_GZIP_LIMIT ? "OVER the limit" : "within the limit";
  say(
    `   bundle: ${kib(report.bundle.bytes)}, ${kib(report.bundle.gzipBytes)} gzipped (${verdict} of ${kib(WORKER_GZIP_LIMIT)})`,
  );
  if (report.bundle.gzipBytes > WORKER_GZIP_LIMIT) {
    throw new Error(
      `the Worker bundle is ${kib(report.bundle.gzipBytes)} gzipped, over Cloudflare's ${kib(WORKER_GZIP_LIMIT)}`,
    );
  }
  say(
    dryRun
      ? "dry run done: run without --dry-run to deploy"
      : `deployed. Racks: snake.url = the NATS cluster's nats:// or tls:// URL (the mixer reaches it at ${worker.config.snake.websocket_url}); ` +
          `API token in ${join(input.keysDir, "api-token")} unless FLUXRIG_API_TOKEN was set`,
  );
  return report;
}

/**
 * What the deployed Worker will load: the config file and the flags, plus the variables the file refers to
 * (uploaded as secrets). The deploying shell's other FLUXRIG_* variables are not shipped, so they are left
 * out here too: the checks see what the Worker will see.
 */
async function workerView(input: DeployInput) {
  const referenced = referencedVariables(input.fileText ?? "");
  const env = Object.fromEntries(
    referenced.flatMap((name) => (input.env[name] === undefined ? [] : [[name, input.env[name] as string]])),
  );
  const fileName = input.loaded.file ? basename(input.loaded.file) : "fluxrig-mixer.toml";
  const { config } = loadConfig(mixerConfigSchema, {
    env,
    flags: input.flags,
    ...(input.fileText !== undefined ? { file: { path: fileName, text: input.fileText } } : {}),
  });
  const vars: Record<string, string> = {};
  if (input.fileText !== undefined) {
    vars.MIXER_CONFIG_TOML = input.fileText;
    vars.MIXER_CONFIG_PATH = fileName;
  }
  if (input.flags.length > 0) vars.MIXER_CONFIG_FLAGS = JSON.stringify(input.flags);
  const startup = await startupScenarioBase64(config, input.cwd);
  if (startup) vars.MIXER_STARTUP_SCENARIO_BASE64 = startup;
  return { config, vars, referenced, fileName };
}
