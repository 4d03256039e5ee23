/** Values of Parquet's Thrift definitions (parquet.thrift) that the writers here use. */
export const Parquet = {
  /** Type */
  Int64: 2,
  Float: 4,
  Double: 5,
  ByteArray: 6,
  FixedLenByteArray: 7,
  /** FieldRepetitionType */
  Required: 0,
  Optional: 1,
  /** ConvertedType */
  Utf8: 0,
  TimestampMicros: 10,
  Int64Converted: 18,
  Json: 19,
  /** LogicalType (a union: the field id says which) */
  LogicalTimestamp: 8,
  LogicalJson: 12,
  LogicalUuid: 14,
  /** TimeUnit (a union) */
  Micros: 2,
  /** Encoding */
  Plain: 0,
  Rle: 3,
  /** PageType */
  DataPage: 0,
  /** CompressionCodec */
  Uncompressed: 0,
  Zstd: 6,
} as const;

/** Thrift compact protocol type codes: Parquet's footer and page headers are structs in this protocol. */
export const Compact = {
  Stop: 0,
  True: 1,
  False: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Double: 7,
  Binary: 8,
  List: 9,
  Set: 10,
  Map: 11,
  Struct: 12,
} as const;

/** A struct field: its id, then its value. Values: a number (I32/I64), a boolean, text, bytes, a struct or a list. */
export type ThriftField =
  | [id: number, type: typeof Compact.True, value: boolean]
  | [id: number, type: typeof Compact.I32 | typeof Compact.I64, value: number]
  | [id: number, type: typeof Compact.Binary, value: string | Uint8Array]
  | [id: number, type: typeof Compact.Struct, value: readonly ThriftField[]]
  | [id: number, type: typeof Compact.List, value: ThriftList];

export type ThriftList =
  | { of: typeof Compact.I32; items: readonly number[] }
  | { of: typeof Compact.Binary; items: readonly string[] }
  | { of: typeof Compact.Struct; items: readonly (readonly ThriftField[])[] };

const encoder = new TextEncoder();

/**
 * Writes Thrift compact structs, for the few a Parquet file needs (its footer and page headers): fields in
 * ascending id order, as the protocol's field deltas assume.
 *
 * @example const header = compactStruct([[1, Compact.I32, 0], [2, Compact.I32, size]]);
 */
export function compactStruct(fields: readonly ThriftField[]): Uint8Array {
  const out: number[] = [];
  writeStruct(out, fields);
  return Uint8Array.from(out);
}

function writeStruct(out: number[], fields: readonly ThriftField[]): void {
  let lastId = 0;
  for (const [id, declared, value] of fields) {
    // A boolean field has no value bytes: its type code (True or False) is its value.
    const type = declared === Compact.True && value === false ? Compact.False : declared;
    const delta = id - lastId;
    if (delta > 0 && delta <= 15) out.push((delta << 4) | type);
    else {
      out.push(type);
      varint(out, zigzag(id));
    }
    lastId = id;
    writeValue(out, type, value);
  }
  out.push(Compact.Stop);
}

function writeValue(out: number[], type: number, value: ThriftField[2]): void {
  if (type === Compact.I32 || type === Compact.I64) varint(out, zigzag(value as number));
  else if (type === Compact.True || type === Compact.False) return;
  else if (type === Compact.Binary) {
    const bytes = typeof value === "string" ? encoder.encode(value) : (value as Uint8Array);
    varint(out, bytes.length);
    for (const byte of bytes) out.push(byte);
  } else if (type === Compact.Struct) writeStruct(out, value as readonly ThriftField[]);
  else {
    const list = value as ThriftList;
    const size = list.items.length;
    if (size < 15) out.push((size << 4) | list.of);
    else {
      out.push(0xf0 | list.of);
      varint(out, size);
    }
    for (const item of list.items) writeValue(out, list.of, item as ThriftField[2]);
  }
}

/** Zigzag of a safe integer, as a non-negative number (64-bit values fit: file offsets stay far below 2^52). */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** Unsigned LEB128 of a non-negative safe integer. */
export function varint(out: number[], n: number): void {
  let rest = n;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}
