import * as z from "zod";
import { withoutEnrollmentOnly } from "../../../shared/control/enrollment.ts";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import {
  fromBase64Url,
  type SealedSecret,
  sealedSecretSchema,
  sealSecret,
} from "../../../shared/passport/index.ts";
import { ProblemError } from "../http/problem.ts";
import { changeRack } from "./rack-revision.ts";
import { blobBytes, type RackRow } from "./rack-row.ts";
import { updateSecrets } from "./racks.ts";

const sealedSecretsSchema = z.record(z.string(), sealedSecretSchema);

/**
 * The most a rack's sealed secrets may take in its passport, in bytes. A passport travels as one NATS message,
 * and nats-server refuses any above its `max_payload` (1 MiB unless the operator raised it), so a larger one
 * would never reach the rack; half of that leaves room for the config, names, CBOR framing and signature.
 */
export const MAX_SEALED_SECRETS_BYTES = 512 * 1024;

/** A `secrets` or `rack_secrets` column, as read or as about to be written. */
type SecretsColumn = Parameters<typeof blobBytes>[0];

/** Sealed secrets as a column stores them (a CBOR map, ciphertext only); none when the column is empty. */
export function decodeSecrets(column: SecretsColumn): Record<string, SealedSecret> {
  const bytes = blobBytes(column);
  return bytes.length === 0 ? {} : sealedSecretsSchema.parse(cbor.decode(bytes));
}

/** Sealed secrets for the `secrets` or `rack_secrets` column. */
export function encodeSecrets(secrets: Record<string, SealedSecret>): Uint8Array {
  return cbor.encode(secrets);
}

/**
 * The secrets a rack's passport carries: its own (sealed by the rack at enrollment) and those set on the mixer,
 * which win under the same name: the operator's value is the one that counts, and a rack cannot override it.
 * Never an enrollment-only one: rows enrolled before migrations/0003 hold the rack's bootstrap token among
 * the mixer's secrets.
 *
 * @example const names = Object.keys(passportSecrets(row));
 */
export function passportSecrets(rack: {
  secrets: SecretsColumn;
  rack_secrets: SecretsColumn;
}): Record<string, SealedSecret> {
  return withoutEnrollmentOnly({ ...decodeSecrets(rack.rack_secrets), ...decodeSecrets(rack.secrets) });
}

/**
 * Seals `value` to the rack's key and keeps it among the secrets set on the mixer. Concurrent changes to the
 * rack (other secrets, a re-enrollment with a new sealing key, a revocation) are never lost: the change is
 * made again on a fresh read. Throws a 409 problem for a revoked rack, and a 413 one when the rack's sealed
 * secrets would outgrow {@link MAX_SEALED_SECRETS_BYTES}.
 *
 * @example await setRackSecret(env.REGISTRY, rack, "db_password", "s3cret");
 */
export async function setRackSecret(
  db: D1Database,
  rack: RackRow,
  name: string,
  value: string,
): Promise<void> {
  await changeRack(db, rack, async (row) => {
    // A revoked rack's key may be the very reason it was revoked: nothing new is sealed to it.
    if (row.status === "revoked") {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        parameter: "id",
        detail: `rack ${row.name} (${row.id}) is revoked: no secret is sealed to a revoked rack's key`,
      });
    }
    const sealed = await sealSecret(fromBase64Url(row.sealing_key), name, value);
    const secrets = encodeSecrets({ ...decodeSecrets(row.secrets), [name]: sealed });
    const size = encodeSecrets(passportSecrets({ secrets, rack_secrets: row.rack_secrets })).length;
    if (size > MAX_SEALED_SECRETS_BYTES) {
      throw new ProblemError({
        title: "Content Too Large",
        status: 413,
        parameter: "value",
        detail:
          `with ${name} the sealed secrets of rack ${row.name} (${row.id}) would take ${size} bytes, above the ` +
          `limit of ${MAX_SEALED_SECRETS_BYTES} that keeps its passport within NATS's max_payload: ` +
          "store a smaller value or remove a secret",
      });
    }
    return (await updateSecrets(db, row.id, row.revision, secrets)) || undefined;
  });
}

/**
 * Removes a secret set on the mixer (a rack's own secret comes back with its next enrollment, so it is not
 * one to remove here). Throws a 404 problem when there is none of that name.
 *
 * @example await deleteRackSecret(env.REGISTRY, rack, "db_password");
 */
export async function deleteRackSecret(db: D1Database, rack: RackRow, name: string): Promise<void> {
  await changeRack(db, rack, async (row) => {
    const secrets = decodeSecrets(row.secrets);
    if (!Object.hasOwn(secrets, name)) {
      throw new ProblemError({
        title: "Not Found",
        status: 404,
        parameter: "name",
        detail: `rack ${row.id} has no secret ${name} set on the mixer`,
      });
    }
    delete secrets[name];
    return (await updateSecrets(db, row.id, row.revision, encodeSecrets(secrets))) || undefined;
  });
}
