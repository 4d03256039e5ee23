import type { ConfigEntry } from "../../../shared/config/index.ts";
import { withoutEnrollmentOnly } from "../../../shared/control/enrollment.ts";
import { type KeyPair, openSealedSecret, type SealedSecret } from "../../../shared/passport/index.ts";

/**
 * The secret settings the rack's environment gave, by key, that it seals into its passport and hands to gears:
 * all but the enrollment-only ones (the bootstrap token admits the rack once and goes nowhere else).
 *
 * @example const fromEnv = environmentSecrets(loaded.entries);
 */
export function environmentSecrets(entries: readonly ConfigEntry[]): Record<string, string> {
  return withoutEnrollmentOnly(
    Object.fromEntries(
      entries.filter((e) => e.secret && typeof e.value === "string").map((e) => [e.key, e.value as string]),
    ),
  );
}

/**
 * The rack's secrets, opened in memory for gears: those the mixer sealed into the passport and those the
 * rack's own environment gave (FLUXRIG_* secret settings, sealed into the passport at enrollment). The
 * environment wins for the run it is set in. Nothing here is ever written anywhere.
 */
export class RackSecrets {
  private constructor(private readonly values: ReadonlyMap<string, string>) {}

  /**
   * Opens every sealed secret with the rack's sealing key; a secret that cannot be opened is reported and
   * left out, never fatal.
   *
   * @example const secrets = await RackSecrets.open(passport.secrets, keys.sealing, fromEnv, log.warn);
   */
  static async open(
    sealed: Record<string, SealedSecret>,
    sealing: KeyPair,
    fromEnv: Record<string, string>,
    warn: (message: string) => void,
  ): Promise<RackSecrets> {
    const values = new Map<string, string>();
    for (const [name, secret] of Object.entries(sealed)) {
      try {
        values.set(name, await openSealedSecret(sealing, name, secret));
      } catch (error) {
        warn((error as Error).message);
      }
    }
    for (const [name, value] of Object.entries(fromEnv)) values.set(name, value);
    return new RackSecrets(values);
  }

  /** A secret's value, or undefined. */
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** The names of the secrets held, sorted (values are never listed). */
  names(): string[] {
    return [...this.values.keys()].sort();
  }
}
