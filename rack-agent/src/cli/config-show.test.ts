import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECKOUT_FLUXRIG, runBin } from "../../../test/helpers/run-bin.ts";

describe("fluxrig config show (the real binary)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-cli-"));
    await writeFile(join(dir, "fluxrig.toml"), '[base]\nname = "rack-nyc-01"\n\n[rack]\nmax_hops = 12\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints each effective value with its source: file:line, env, flag, default", async () => {
    const r = await runBin("fluxrig", ["config", "show", "--sources", "--level", "warn"], {
      cwd: dir,
      env: { FLUXRIG_SNAKE_URL: "ws://127.0.0.1:9222" },
    });
    expect(r.code).toBe(0);
    const line = (key: string) => r.stdout.split("\n").find((l) => l.startsWith(`${key} `)) ?? "";
    expect(line("base.name")).toMatch(/"rack-nyc-01"\s+fluxrig\.toml:2$/);
    expect(line("rack.max_hops")).toMatch(/12\s+fluxrig\.toml:5$/);
    expect(line("snake.url")).toMatch(/"ws:\/\/127\.0\.0\.1:9222"\s+env FLUXRIG_SNAKE_URL$/);
    expect(line("logging.level")).toMatch(/"warn"\s+flag --level$/);
    expect(line("rack.heartbeat_interval")).toMatch(/"30s"\s+default$/);
    expect(r.stdout).toContain("# config file: fluxrig.toml");
  });

  it("prints JSON for scripts", async () => {
    const r = await runBin("fluxrig", ["config", "show", "--json"], { cwd: dir });
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.base.name).toBe("rack-nyc-01");
    expect(config.snake.connect_timeout).toBe("10s");
  });

  it("uses --config over FLUXRIG_CONFIG, and fails clearly when the named file is missing", async () => {
    const other = join(dir, "other.toml");
    await writeFile(other, '[base]\nname = "from-flag"\n');
    const r = await runBin("fluxrig", ["--config", other, "config", "show", "--json"], {
      cwd: dir,
      env: { FLUXRIG_CONFIG: join(dir, "fluxrig.toml") },
    });
    expect(JSON.parse(r.stdout).base.name).toBe("from-flag");
    const missing = await runBin("fluxrig", ["config", "show"], {
      cwd: dir,
      env: { FLUXRIG_CONFIG: "nope.toml" },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("FLUXRIG_CONFIG names nope.toml, which does not exist");
  });

  it("exits 2 with the culprit named on a bad flag value or an unknown flag", async () => {
    const bad = await runBin("fluxrig", ["config", "show", "--level", "loud"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'flag --level: logging.level: expected one of trace, debug, info, warn, error, got "loud"',
    );
    const unknown = await runBin("fluxrig", ["--lvel", "debug", "config", "show"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--lvel'");
    expect(unknown.stderr).toContain("Did you mean --level?");
  });

  it("has --help and --version on both binaries", async () => {
    // From the checkout's bin/, as `npx fluxrig` runs it (the other tests run the rack's build).
    const help = await runBin("fluxrig", ["--help"], { script: CHECKOUT_FLUXRIG });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--level <level>");
    expect(help.stdout).toContain("Precedence: flags > FLUXRIG_* environment > config file > defaults");
    const version = await runBin("fluxrig-mixer", ["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("shows the mixer config with secrets masked", async () => {
    const r = await runBin("fluxrig-mixer", ["config", "show", "--sources"], {
      cwd: dir,
      env: { FLUXRIG_API_TOKEN: "very-secret-token" },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("very-secret-token");
    expect(r.stdout).toMatch(/api\.token\s+"\*+"\s+env FLUXRIG_API_TOKEN/);
  });
});
