import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Bytes,
  fromBase64Url,
  importPublicKey,
  keyFingerprint,
  type PinnedKey,
  SIGNING_ALGORITHM,
  toBase64Url,
} from "../../../shared/passport/index.ts";
import { writeDurably } from "../fs/write-durably.ts";

/** Where a rack keeps the cluster key it learnt at first enrollment. */
export const CLUSTER_PIN_FILE = "cluster.pub";

/**
 * The cluster key this rack trusts, and nothing else: passports are verified against it only. It is
 * `rack.cluster_key_fingerprint` when set (checked against the key the mixer presents), else the key met at
 * first enrollment (trust on first use), kept in `<state_dir>/cluster.pub`.
 */
export class ClusterPin {
  private constructor(
    private readonly stateDir: string,
    private readonly configured: string,
    private pinned: PinnedKey | undefined,
  ) {}

  private get path(): string {
    return join(this.stateDir, CLUSTER_PIN_FILE);
  }

  /**
   * Reads the pin file, if any; throws when it disagrees with `rack.cluster_key_fingerprint`.
   *
   * @example const pin = await ClusterPin.load(config.base.state_dir, config.rack.cluster_key_fingerprint);
   */
  static async load(stateDir: string, configured: string): Promise<ClusterPin> {
    const path = join(stateDir, CLUSTER_PIN_FILE);
    const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new Error(`cannot read the pinned cluster key ${path}: ${error.message}`);
    });
    const pin = new ClusterPin(stateDir, configured, undefined);
    if (text === undefined) return pin;
    let raw: Bytes;
    try {
      raw = fromBase64Url((JSON.parse(text) as { public_key?: string }).public_key ?? "");
      if (raw.length !== 32) throw new Error("not a 32-byte key");
    } catch (error) {
      throw new Error(
        `${path} is not a pinned cluster key (${(error as Error).message}); remove it to pin again`,
      );
    }
    pin.pinned = {
      key: await importPublicKey(raw, SIGNING_ALGORITHM),
      fingerprint: await keyFingerprint(raw),
    };
    pin.check(pin.pinned.fingerprint, `the key pinned in ${path}`);
    return pin;
  }

  /** The pinned key, once there is one. */
  get key(): PinnedKey | undefined {
    return this.pinned;
  }

  /**
   * Accepts the cluster key a mixer presented at enrollment: it must match the pin (or the configured
   * fingerprint); with neither, it is trusted on first use. Call {@link save} once its passport verified.
   */
  async accept(raw: Bytes): Promise<PinnedKey> {
    const fingerprint = await keyFingerprint(raw);
    if (this.pinned && this.pinned.fingerprint !== fingerprint) {
      throw new Error(
        `the mixer presented cluster key ${fingerprint}, not the pinned ${this.pinned.fingerprint} (${this.path}); ` +
          "refusing its passport. If the cluster key really changed, remove that file and the passport to enroll anew",
      );
    }
    this.check(fingerprint, "the cluster key the mixer presented");
    return this.pinned ?? { key: await importPublicKey(raw, SIGNING_ALGORITHM), fingerprint };
  }

  /**
   * Keeps a key accepted by {@link accept} as the pin, if none was kept yet. A key trusted on first use (no
   * `rack.cluster_key_fingerprint`) is reported through `warn` with how to pin it explicitly: whoever answered
   * this first enrollment is trusted from now on, so an operator should check that it was the right mixer.
   *
   * @example await pin.save(pinned, result.mixerId, log.warn);
   */
  async save(pinned: PinnedKey, mixerId: string, warn: (message: string) => void): Promise<void> {
    if (this.pinned) return;
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pinned.key));
    const file = {
      algorithm: "Ed25519",
      public_key: toBase64Url(raw),
      fingerprint: pinned.fingerprint,
      mixer_id: mixerId,
    };
    await writeDurably(this.stateDir, CLUSTER_PIN_FILE, `${JSON.stringify(file, null, 2)}\n`);
    this.pinned = pinned;
    if (!this.configured) {
      warn(
        `trusting cluster key ${pinned.fingerprint} on first use (rack.cluster_key_fingerprint is empty), ` +
          `pinned in ${this.path}: check it against GET /api/v1/cluster-key on your mixer, and pin it ` +
          `explicitly with FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT=${pinned.fingerprint} (or ` +
          "rack.cluster_key_fingerprint in fluxrig.toml)",
      );
    }
  }

  private check(fingerprint: string, what: string): void {
    if (this.configured && this.configured !== fingerprint) {
      throw new Error(
        `${what} is ${fingerprint}, but rack.cluster_key_fingerprint pins ${this.configured}: ` +
          "check the fingerprint with GET /api/v1/cluster-key on the right mixer",
      );
    }
  }
}
