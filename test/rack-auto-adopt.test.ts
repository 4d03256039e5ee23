import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runBin, startBin } from "./helpers/run-bin.ts";
import { busEnv, MIXER_START_MS, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

let mixer: TestMixer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-adopt-"));
  mixer = await startTestMixer({ env: { FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true" } });
}, MIXER_START_MS);

afterAll(async () => {
  await mixer?.dispose();
  await rm(dir, { recursive: true, force: true });
});

it("with enrollment.auto_adopt a new rack is active at once and runs its gears, no operator needed", async () => {
  const rack = startBin("fluxrig", ["run"], {
    env: {
      FLUXRIG_BASE_NAME: "",
      FLUXRIG_RACK_NAME_PREFIX: "edge-",
      FLUXRIG_BASE_STATE_DIR: join(dir, "rack"),
      FLUXRIG_SNAKE_URL: mixer.natsUrl,
      FLUXRIG_RACK_BOOTSTRAP_TOKEN: mixer.bootstrapToken,
      ...busEnv(mixer),
    },
  });
  try {
    // base.name empty: the prefix and a stable suffix from the rack's key name it.
    const named = await rack.waitFor(/rack edge-[0-9a-f]{6}: ip /);
    const name = /rack (edge-[0-9a-f]{6})/.exec(named)?.[1] as string;
    await rack.waitFor(/passport: rack \S+ is active/);
    await rack.waitFor(/gears started/);
    expect(rack.output).not.toContain("waiting for adoption");
    const list = await runBin("fluxrig", ["racks", "list", "--api-url", mixer.apiUrl], {
      env: { FLUXRIG_API_TOKEN: mixer.env.FLUXRIG_API_TOKEN as string },
    });
    expect(list.stdout).toMatch(new RegExp(`${name}\\s+active`));
  } finally {
    expect(await rack.stop()).toBe(0);
  }
});
