import {
  generateKeyPair,
  keyFingerprint,
  type PassportPayload,
  SEALING_ALGORITHM,
  SIGNING_ALGORITHM,
  sealSecret,
} from "../../shared/passport/index.ts";

/** The plain text of the secret {@link testPassport} seals, to look for in bytes that must not hold it. */
export const TEST_SECRET_VALUE = "plain-text-pin-4711";

/**
 * A fresh cluster key pair, with the pin a rack would hold for it.
 *
 * @example const cluster = await testCluster(); await signPassport(payload, cluster.privateKey);
 */
export async function testCluster() {
  const pair = await generateKeyPair(SIGNING_ALGORITHM);
  return { ...pair, pinned: { key: pair.publicKey, fingerprint: await keyFingerprint(pair.publicRaw) } };
}

/**
 * A valid passport payload for `rack-nyc-01`, with one secret (`hsm_pin`) sealed to a throwaway key.
 *
 * @example const payload = await testPassport({ status: "suspended" });
 */
export async function testPassport(overrides: Partial<PassportPayload> = {}): Promise<PassportPayload> {
  const sealing = await generateKeyPair(SEALING_ALGORITHM);
  return {
    version: 1,
    rack_id: "0190a4c2-7d3e-7b1a-8c4d-2e5f6a7b8c9d",
    name: "rack-nyc-01",
    mixer_id: "0190a4c2-0000-7000-8000-000000000001",
    status: "active",
    issued_at: 1_790_000_000_000,
    rack_key: `SHA256:${"1".repeat(64)}`,
    config: { "rack.heartbeat_interval": "30s" },
    secrets: { hsm_pin: await sealSecret(sealing.publicRaw, "hsm_pin", TEST_SECRET_VALUE) },
    ...overrides,
  };
}
