import { expect, it } from "vitest";
import type { ConfigEntry } from "../../../shared/config/index.ts";
import { generateKeyPair, SEALING_ALGORITHM, sealSecret } from "../../../shared/passport/index.ts";
import { environmentSecrets, RackSecrets } from "./rack-secrets.ts";

it("opens the passport's secrets for gears, with the environment's values on top; unopenable ones are reported", async () => {
  const rack = await generateKeyPair(SEALING_ALGORITHM);
  const stranger = await generateKeyPair(SEALING_ALGORITHM);
  const warnings: string[] = [];
  const secrets = await RackSecrets.open(
    {
      db_password: await sealSecret(rack.publicRaw, "db_password", "from-mixer"),
      hsm_pin: await sealSecret(rack.publicRaw, "hsm_pin", "old-pin"),
      lost: await sealSecret(stranger.publicRaw, "lost", "x"),
    },
    rack,
    { hsm_pin: "new-pin" },
    (w) => warnings.push(w),
  );
  expect(secrets.get("db_password")).toBe("from-mixer");
  expect(secrets.get("hsm_pin")).toBe("new-pin");
  expect(secrets.names()).toEqual(["db_password", "hsm_pin"]);
  expect(warnings).toEqual([
    "secret lost cannot be opened with this rack's sealing key (sealed to another key, or altered)",
  ]);
});

it("seals and hands to gears the environment's secret settings, never the bootstrap token", () => {
  const entry = (key: string, value: unknown, secret: boolean): ConfigEntry => ({
    key,
    value,
    secret,
    source: { kind: "env", name: "FLUXRIG_X" },
  });
  const entries = [
    entry("rack.bootstrap_token", "cluster-wide-token", true),
    entry("store.database_password", "db-pass", true),
    entry("rack.max_hops", 64, false),
  ];
  expect(environmentSecrets(entries)).toEqual({ "store.database_password": "db-pass" });
});
