import {
  type BatchEntity,
  type BatchKind,
  TELEMETRY_BATCH_VERSION,
} from "../../../shared/telemetry/batch.ts";

/**
 * The CBOR bytes around a batch's records: `{v: 1, kind, entity: {id, name}, records: [` … `]}` (the entity
 * once for all its records, which carry none: shared/telemetry/batch.ts; a definite-length map and array,
 * RFC 8949). Records are encoded once as they arrive, copied back to back into the batch's buffer, and copied
 * behind this frame when the batch is sealed, so sizing a batch never re-encodes it.
 */

const UINT = 0;
const TEXT = 3;
const ARRAY = 4;
const MAP = 5;

/** Bytes of a CBOR head: the argument fits in the first byte, or follows it in 1, 2 or 4 bytes. */
function headLength(argument: number): number {
  return argument < 24 ? 1 : argument < 0x100 ? 2 : argument < 0x10000 ? 3 : 5;
}

/** A CBOR data item head: major type and argument. */
function head(major: number, argument: number): number[] {
  const type = major << 5;
  switch (headLength(argument)) {
    case 1:
      return [type | argument];
    case 2:
      return [type | 24, argument];
    case 3:
      return [type | 25, argument >> 8, argument & 0xff];
    default:
      return [
        type | 26,
        (argument >>> 24) & 0xff,
        (argument >> 16) & 0xff,
        (argument >> 8) & 0xff,
        argument & 0xff,
      ];
  }
}

function text(value: string): number[] {
  const bytes = new TextEncoder().encode(value);
  return [...head(TEXT, bytes.length), ...bytes];
}

/** Prefixes by kind, without an entity and per entity object (a client keeps one: no key is built per call). */
const plainPrefixes = new Map<BatchKind, number[]>();
const entityPrefixes = new WeakMap<BatchEntity, Map<BatchKind, number[]>>();

/** `{v, kind, [entity,] records: ` as bytes: the entity goes before the records, where the mixer reads it first. */
function prefix(kind: BatchKind, entity: BatchEntity | undefined): number[] {
  let prefixes = plainPrefixes;
  if (entity) {
    const known = entityPrefixes.get(entity);
    prefixes = known ?? new Map();
    if (!known) entityPrefixes.set(entity, prefixes);
  }
  let bytes = prefixes.get(kind);
  if (!bytes) {
    bytes = [
      ...head(MAP, entity ? 4 : 3),
      ...text("v"),
      ...head(UINT, TELEMETRY_BATCH_VERSION),
      ...text("kind"),
      ...text(kind),
      ...(entity
        ? [
            ...text("entity"),
            ...head(MAP, 2),
            ...text("id"),
            ...text(entity.id),
            ...text("name"),
            ...text(entity.name),
          ]
        : []),
      ...text("records"),
    ];
    prefixes.set(kind, bytes);
  }
  return bytes;
}

/** Bytes the frame adds to a batch of `count` records (called per record, so it allocates nothing). */
export function batchFrameSize(kind: BatchKind, count: number, entity?: BatchEntity): number {
  return prefix(kind, entity).length + headLength(count);
}

/**
 * Frames `count` records already encoded as CBOR and laid back to back in `records` as one telemetry batch
 * message.
 *
 * @example
 * const data = encodeBatch("logs", 2, concat(encode(recordA), encode(recordB)));
 * decode(data); // { v: 1, kind: "logs", records: [recordA, recordB] }
 */
export function encodeBatch(
  kind: BatchKind,
  count: number,
  records: Uint8Array,
  entity?: BatchEntity,
): Uint8Array {
  const frame = [...prefix(kind, entity), ...head(ARRAY, count)];
  const out = new Uint8Array(frame.length + records.length);
  out.set(frame);
  out.set(records, frame.length);
  return out;
}
