import { describe, expect, it } from "vitest";
import { generateKeyPair, SEALING_ALGORITHM } from "./keys.ts";
import { openSealedSecret, sealSecret } from "./seal.ts";

describe("sealed secrets", () => {
  it("opens with the rack's sealing key only", async () => {
    const rack = await generateKeyPair(SEALING_ALGORITHM);
    const other = await generateKeyPair(SEALING_ALGORITHM);
    const sealed = await sealSecret(rack.publicRaw, "hsm_pin", "4711");
    expect(await openSealedSecret(rack, "hsm_pin", sealed)).toBe("4711");
    await expect(openSealedSecret(other, "hsm_pin", sealed)).rejects.toThrow(
      "secret hsm_pin cannot be opened with this rack's sealing key (sealed to another key, or altered)",
    );
  });

  it("refuses a value moved under another name, or altered", async () => {
    const rack = await generateKeyPair(SEALING_ALGORITHM);
    const sealed = await sealSecret(rack.publicRaw, "hsm_pin", "4711");
    await expect(openSealedSecret(rack, "db_password", sealed)).rejects.toThrow(
      /secret db_password cannot be opened/,
    );
    const ct = sealed.ct.slice();
    ct[0] = (ct[0] as number) ^ 1;
    await expect(openSealedSecret(rack, "hsm_pin", { ...sealed, ct })).rejects.toThrow(/cannot be opened/);
  });

  it("seals the same value differently each time (a fresh ephemeral key and nonce)", async () => {
    const rack = await generateKeyPair(SEALING_ALGORITHM);
    const a = await sealSecret(rack.publicRaw, "x", "same");
    const b = await sealSecret(rack.publicRaw, "x", "same");
    expect(a.epk).not.toEqual(b.epk);
    expect(a.ct).not.toEqual(b.ct);
  });
});
