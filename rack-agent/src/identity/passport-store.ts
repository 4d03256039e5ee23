import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  PassportError,
  type PassportPayload,
  type PinnedKey,
  verifyPassport,
} from "../../../shared/passport/index.ts";
import { writeDurably } from "../fs/write-durably.ts";

/**
 * The rack's passport file, `<base.state_dir>/<base.state_file>`. Only a passport that verifies against the
 * pinned cluster key, names this rack's identity key, and is newer than the one held ever replaces the file,
 * and it does so atomically: a refused, truncated or replayed passport leaves the last good one in place.
 */
export class PassportStore {
  readonly path: string;

  constructor(
    private readonly stateDir: string,
    private readonly fileName: string,
    /** The fingerprint of this rack's identity key; a passport must name it. */
    private readonly rackKey: string,
  ) {
    this.path = join(stateDir, fileName);
  }

  /**
   * The stored passport, verified; undefined when there is none yet. Throws a {@link PassportError} naming
   * the file when it is there but not good.
   *
   * @example const held = await store.load(pin.key);
   */
  async load(pin: PinnedKey): Promise<PassportPayload | undefined> {
    const bytes = await readFile(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new PassportError(`cannot read ${this.path}: ${error.message}`);
    });
    if (bytes === undefined) return undefined;
    try {
      return await this.check(bytes, pin);
    } catch (error) {
      if (error instanceof PassportError) throw new PassportError(`${this.path}: ${error.message}`);
      throw error;
    }
  }

  /**
   * Verifies a passport and makes it the stored one. Resolves with `current` unchanged when this is the
   * passport already held (a repeated delivery); throws a {@link PassportError} (the file untouched) when it
   * is refused.
   *
   * @example held = await store.save(msg.data, pin.key, held);
   */
  async save(bytes: Uint8Array, pin: PinnedKey, current?: PassportPayload): Promise<PassportPayload> {
    const passport = await this.check(bytes, pin);
    if (current) {
      if (passport.rack_id !== current.rack_id) {
        throw new PassportError(
          `the passport is for rack ${passport.rack_id}, and this rack is ${current.rack_id}`,
        );
      }
      if (passport.issued_at === current.issued_at) return current;
      if (passport.issued_at < current.issued_at) {
        throw new PassportError(
          `the passport was issued ${new Date(passport.issued_at).toISOString()}, before the one held ` +
            `(${new Date(current.issued_at).toISOString()}): an old passport replayed`,
        );
      }
    }
    await writeDurably(this.stateDir, this.fileName, bytes, { mode: 0o600 });
    return passport;
  }

  private async check(bytes: Uint8Array, pin: PinnedKey): Promise<PassportPayload> {
    const passport = await verifyPassport(bytes, pin);
    if (passport.rack_key !== this.rackKey) {
      throw new PassportError(
        `the passport is for the rack with key ${passport.rack_key}, and this rack's key is ${this.rackKey}`,
      );
    }
    return passport;
  }
}
