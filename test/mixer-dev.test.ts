import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./helpers/free-port.ts";
import { runBin } from "./helpers/run-bin.ts";

describe("fluxrig-mixer dev refuses to start, saying why, when", () => {
  let dir: string;
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fluxrig-dev-"));
    taken = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("a port is taken: it names the port and the setting to change", async () => {
    const r = await runBin(
      "fluxrig-mixer",
      ["dev", "--store-dir", join(dir, "data"), "--port", String(taken)],
      {
        cwd: dir,
        env: {
          FLUXRIG_SNAKE_PORT: String(await freePort()),
          FLUXRIG_SNAKE_WEBSOCKET_URL: `ws://127.0.0.1:${await freePort()}`,
        },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${taken} (api.port) is already in use on 127.0.0.1: change api.port`);
  });

  it("nats-server is missing: it says how to install it", async () => {
    const r = await runBin(
      "fluxrig-mixer",
      ["dev", "--store-dir", join(dir, "data"), "--port", String(await freePort())],
      {
        cwd: dir,
        env: {
          PATH: "/nonexistent",
          FLUXRIG_SNAKE_PORT: String(await freePort()),
          FLUXRIG_SNAKE_WEBSOCKET_URL: `ws://127.0.0.1:${await freePort()}`,
        },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "nats-server is not installed or not on PATH: install it with `apt-get install -y nats-server`",
    );
  });
});
