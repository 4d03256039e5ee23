import type { z } from "zod";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { JOURNAL_KIND, type JournalRecord, journalRecordSchema } from "../../../shared/journal/record.ts";
import {
  type BatchKind,
  batchRecords,
  recordWithEntity,
  telemetryBatchSchema,
} from "../../../shared/telemetry/batch.ts";
import { recordSchemaByKind, type TelemetryRecord } from "../../../shared/telemetry/records.ts";
import { consoleLine } from "../self/console-line.ts";
import {
  encodeRows,
  type RowArena,
  type RowFormat,
  type StoredRow,
  storedColumns,
  transcodeBatch,
} from "../store/index.ts";
import { type EntityCheck, entityClaimProblem } from "./entity-claims.ts";

/** A record ingest stores: a telemetry signal's, or a journal record (`messages`). */
export type IngestRecord = TelemetryRecord | JournalRecord;

/** Each batch kind's record schema. */
const SCHEMA_BY_KIND = { ...recordSchemaByKind, [JOURNAL_KIND]: journalRecordSchema } as const;

/** A record that failed validation, kept whole for the dead-letter subject. */
export interface RejectedRecord {
  index: number;
  reason: string;
  record: unknown;
}

export type DecodedBatch =
  | { ok: true; kind: BatchKind; records: IngestRecord[]; rejected: RejectedRecord[] }
  | { ok: false; reason: string };

/** What a batch is checked against besides the record schemas. */
export interface DecodeLimits {
  /** `mixer.max_payload_size`. */
  maxPayloadSize: number;
  now: number;
  /** Records older than this are refused: retention would delete them at once (`rotation.max_age_days`). */
  maxAgeMs: number;
  /** The kinds this consumer takes (the subject decides): a batch claiming another kind is refused whole. */
  kinds?: readonly BatchKind[];
  /** The rack the message's subject names: a record claiming another entity is refused. */
  entity?: EntityCheck;
}

/** How far ahead of the mixer's clock a record may be: a little skew is normal, a year is a broken RTC. */
const MAX_FUTURE_MS = 86_400_000;

/**
 * Decodes one telemetry message: a CBOR `{v, kind, records}` map. The message as a whole fails only when it
 * is not such a map (bad CBOR, wrong shape, too large); a bad record is rejected alone, its neighbours kept.
 * A record whose `ts` is outside [now - max age, now + 1 day] is rejected too, naming the likely cause, and
 * so is one claiming another entity than the rack its subject names (`limits.entity`).
 *
 * @example decodeTelemetryBatch(msg.data, { maxPayloadSize: 2_097_152, now: Date.now(), maxAgeMs: 30 * 86_400_000 })
 */
export function decodeTelemetryBatch(data: Uint8Array, limits: DecodeLimits): DecodedBatch {
  const decoded = decodeChecked(data, limits);
  if (!decoded.ok) return decoded;
  const { kind, accepted, rejected } = decoded;
  return { ok: true, kind, records: accepted.map(({ record }) => record), rejected };
}

/** A record the schemas took, with its place in the batch (for the reason if it cannot be written). */
interface AcceptedRecord {
  index: number;
  record: IngestRecord;
}

type CheckedBatch =
  | { ok: true; kind: BatchKind; accepted: AcceptedRecord[]; rejected: RejectedRecord[] }
  | { ok: false; reason: string };

function decodeChecked(data: Uint8Array, limits: DecodeLimits): CheckedBatch {
  const { maxPayloadSize } = limits;
  if (data.byteLength > maxPayloadSize) {
    return {
      ok: false,
      reason: `message of ${data.byteLength} bytes exceeds max_payload_size ${maxPayloadSize}`,
    };
  }
  let value: unknown;
  try {
    value = cbor.decode(data);
  } catch (error) {
    return { ok: false, reason: `not valid CBOR: ${(error as Error).message}` };
  }
  const batch = telemetryBatchSchema.safeParse(value);
  if (!batch.success) {
    const issue = batch.error.issues[0];
    return {
      ok: false,
      reason: `not a telemetry batch: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    };
  }
  const { kind } = batch.data;
  if (limits.kinds && !limits.kinds.includes(kind)) {
    return { ok: false, reason: `a ${kind} batch on a subject for ${limits.kinds.join(", ")}` };
  }
  const accepted: AcceptedRecord[] = [];
  const rejected: RejectedRecord[] = [];
  batchRecords(batch.data).forEach((record, index) => {
    checkRecord(kind, record, index, limits, accepted, rejected);
  });
  return { ok: true, kind, accepted, rejected };
}

export type DecodedRows =
  | { ok: true; kind: BatchKind; rows: StoredRow[]; rejected: RejectedRecord[] }
  | { ok: false; reason: string };

/**
 * Decodes one message as {@link decodeTelemetryBatch} does, into the rows its records are stored as
 * (`format`: the storage's). For Parquet, the records are transcoded straight from the CBOR into their
 * cells (store/rows/transcode-cbor.ts: about a fifth of the CPU of decoding objects, validating them with zod
 * and encoding them again); a record that path does not take, and any message not plainly shaped, goes
 * through the schemas, with the same verdicts and the same bytes. Transcoded rows are views into `arena`
 * (a new one when not given): the caller resets it once they are done with (store/rows/row-arena.ts).
 *
 * @example const decoded = decodeBatchRows(msg.data, limits, storage.format, arena);
 */
export function decodeBatchRows(
  data: Uint8Array,
  limits: DecodeLimits,
  format: RowFormat,
  arena?: RowArena,
): DecodedRows {
  if (format === "parquet" && data.byteLength <= limits.maxPayloadSize) {
    // The fast path is an optimisation: should it ever fail unexpectedly, the schemas still decide.
    const fast = (() => {
      try {
        return fastRows(data, limits, arena);
      } catch (error) {
        consoleLine(
          "error",
          `ingest: the fast decode failed, the schemas decided: ${(error as Error).message}`,
        );
        return undefined;
      }
    })();
    if (fast) return fast;
  }
  const decoded = decodeChecked(data, limits);
  if (!decoded.ok) return decoded;
  const { kind, accepted, rejected } = decoded;
  return { ok: true, kind, rows: encodeAccepted(kind, accepted, format, rejected), rejected };
}

/**
 * Encodes the records the schemas took. One the storage format cannot hold (a CBOR bignum in attributes has
 * no JSON form) is refused alone, with the reason, like any bad record; its neighbours are kept.
 */
function encodeAccepted(
  kind: BatchKind,
  accepted: AcceptedRecord[],
  format: RowFormat,
  rejected: RejectedRecord[],
): StoredRow[] {
  const columns = storedColumns(kind);
  try {
    return encodeRows(
      columns,
      accepted.map(({ record }) => record),
      format,
    );
  } catch {
    const rows: StoredRow[] = [];
    for (const { index, record } of accepted) {
      try {
        rows.push(...encodeRows(columns, [record], format));
      } catch (error) {
        const reason = `records[${index}]: cannot write ${kind} as ${format}: ${(error as Error).message}`;
        rejected.push({ index, record, reason });
      }
    }
    rejected.sort((a, b) => a.index - b.index);
    return rows;
  }
}

function fastRows(data: Uint8Array, limits: DecodeLimits, arena?: RowArena): DecodedRows | undefined {
  const { entity } = limits;
  const fast = transcodeBatch(
    data,
    {
      oldest: limits.now - limits.maxAgeMs,
      newest: limits.now + MAX_FUTURE_MS,
      ...(entity
        ? {
            entityAllowed: (entity_id: string, entity_name: string) =>
              entityClaimProblem({ entity_id, entity_name }, entity) === undefined,
          }
        : {}),
    },
    arena,
  );
  if (!fast || (limits.kinds && !limits.kinds.includes(fast.kind))) return undefined;
  const accepted: AcceptedRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const other of fast.others) {
    let record: unknown;
    try {
      record = recordWithEntity(cbor.decode(other.cbor), fast.entity);
    } catch {
      return undefined; // the slow path says what is wrong with the message
    }
    checkRecord(fast.kind, record, other.index, limits, accepted, rejected);
  }
  const rows =
    accepted.length > 0
      ? fast.rows.concat(encodeAccepted(fast.kind, accepted, "parquet", rejected))
      : fast.rows;
  return { ok: true, kind: fast.kind, rows, rejected };
}

/** Checks one record of a batch against its schema, its time window and its entity claim. */
function checkRecord(
  kind: BatchKind,
  record: unknown,
  index: number,
  limits: DecodeLimits,
  accepted: AcceptedRecord[],
  rejected: RejectedRecord[],
): void {
  const schema: z.ZodType<IngestRecord> = SCHEMA_BY_KIND[kind];
  const parsed = schema.safeParse(record);
  const outside = parsed.success ? outsideWindow(parsed.data.ts, limits) : undefined;
  const claim = parsed.success && limits.entity ? entityClaimProblem(parsed.data, limits.entity) : undefined;
  if (outside) rejected.push({ index, record, reason: `records[${index}].ts: ${outside}` });
  else if (claim) rejected.push({ index, record, reason: `records[${index}]: ${claim}` });
  else if (parsed.success) accepted.push({ index, record: parsed.data });
  else {
    const issue = parsed.error.issues[0];
    rejected.push({ index, record, reason: `records[${index}].${issue?.path.join(".")}: ${issue?.message}` });
  }
}

function outsideWindow(ts: number, limits: DecodeLimits): string | undefined {
  // The time is formatted only for a record refused: formatting every record's cost 10% of its validation.
  if (ts < limits.now - limits.maxAgeMs) {
    return `${new Date(ts).toISOString()} is older than the retention window (rotation.max_age_days); is the sender's clock set?`;
  }
  if (ts > limits.now + MAX_FUTURE_MS) {
    return `${new Date(ts).toISOString()} is more than a day ahead of the mixer's clock`;
  }
  return undefined;
}
