import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConfigFiles, loadConfigFile, MAX_CONFIG_FILE_BYTES } from "./config-file.ts";
import { ConfigError } from "./provenance.ts";
import { rackConfigSpec } from "./specs.ts";

const files: ConfigFiles = { stat, readText: (path) => readFile(path, "utf8") };

async function refusal(
  configFlag: string | undefined,
  env: Record<string, string> = {},
): Promise<ConfigError> {
  const error = await loadConfigFile(rackConfigSpec, { configFlag, env, flags: [], files }).catch((e) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("the config file --config and FLUXRIG_CONFIG name", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-config-file-"));
    execFileSync("mkfifo", [join(dir, "fifo.toml")]);
    await mkdir(join(dir, "dir.toml"));
    await writeFile(join(dir, "big.toml"), `# ${"x".repeat(MAX_CONFIG_FILE_BYTES)}\n`);
    await writeFile(join(dir, "ok.toml"), '[base]\nname = "from-file"\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses --config "" instead of ignoring it', async () => {
    expect((await refusal("")).message).toContain(
      "--config is empty: name a TOML file, or leave --config out to read ./fluxrig.toml",
    );
    expect((await refusal(undefined, { FLUXRIG_CONFIG: "" })).message).toContain("FLUXRIG_CONFIG is empty");
  });

  it("refuses a FIFO without opening it (which would wait for a writer)", async () => {
    const message = (await refusal(join(dir, "fifo.toml"))).message;
    expect(message).toContain("fifo.toml, which is not a regular file (a device, pipe or socket)");
  }, 5_000);

  it("refuses /dev/urandom without reading it", async () => {
    expect((await refusal(undefined, { FLUXRIG_CONFIG: "/dev/urandom" })).message).toContain(
      "FLUXRIG_CONFIG names /dev/urandom, which is not a regular file",
    );
  }, 5_000);

  it("refuses a directory, a file past 1 MiB and a missing file, naming each", async () => {
    expect((await refusal(join(dir, "dir.toml"))).message).toContain("dir.toml, which is a directory");
    expect((await refusal(join(dir, "big.toml"))).message).toMatch(
      /big\.toml, which holds 1048579 bytes: a config file may hold at most 1048576 \(1 MiB\)/,
    );
    const missing = await refusal(join(dir, "nope.toml"));
    expect(missing.message).toContain("nope.toml, which does not exist");
    expect((missing.cause as { code?: string }).code).toBe("ENOENT");
  });

  it("reads a regular file, and runs on defaults when the default file is absent", async () => {
    const named = await loadConfigFile(rackConfigSpec, {
      configFlag: join(dir, "ok.toml"),
      env: {},
      flags: [],
      files,
    });
    expect(named.config.base.name).toBe("from-file");
    const absent = await loadConfigFile(
      { ...rackConfigSpec, fileName: join(dir, "absent.toml") },
      { env: {}, flags: [], files },
    );
    expect(absent.file).toBeUndefined();
    expect(absent.config.base.name).toBe("node-01");
  });

  it("holds the default file to the same rule", async () => {
    const error = await loadConfigFile(
      { ...rackConfigSpec, fileName: join(dir, "fifo.toml") },
      { env: {}, flags: [], files },
    ).catch((e) => e);
    expect((error as Error).message).toContain("which is not a regular file");
  }, 5_000);
});
