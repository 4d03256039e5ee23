import type { ColumnType, StoredColumn } from "./parquet-schema.ts";
import { Compact, compactStruct, Parquet, type ThriftField, varint } from "./parquet-thrift.ts";
import { NULL_CELL, type StoredRow } from "./rows/stored-row.ts";
import { writeUint32 } from "./utf8-sink.ts";
import { zstdCompress } from "./zstd.ts";

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/** Rows per row group (a multiple of 8: each group's definition levels start on a byte). */
const ROW_GROUP_ROWS = 8_192;

/** zstd's fastest level: a flush's objects are small and compaction rewrites them at DuckDB's level. */
const ZSTD_LEVEL = 1;

/** The codecs this writer compresses pages with (snappy goes through DuckDB, see parquet-writer.ts). */
export type ParquetCodec = "zstd" | "none";

/** How a column's cells become Parquet values: copied as PLAIN byte arrays, or parsed into fixed-width values. */
const Value = { Bytes: 0, Timestamp: 1, Uuid: 2, Float: 3, Double: 4, BigInt: 5 } as const;
type Value = (typeof Value)[keyof typeof Value];

const WIDTH: Record<Value, number> = {
  [Value.Bytes]: 0,
  [Value.Timestamp]: 8,
  [Value.Uuid]: 16,
  [Value.Float]: 4,
  [Value.Double]: 8,
  [Value.BigInt]: 8,
};

function valueKind(type: ColumnType): Value {
  if (type === "TIMESTAMP") return Value.Timestamp;
  if (type === "UUID") return Value.Uuid;
  if (type === "FLOAT") return Value.Float;
  if (type === "DOUBLE") return Value.Double;
  if (type === "BIGINT") return Value.BigInt;
  return Value.Bytes;
}

/**
 * The schema element of a stored column, as DuckDB 0.9.1 writes it (so objects of either writer read back the
 * same): TIMESTAMP as INT64 micros (not adjusted to UTC), UUID as 16 fixed bytes, ENUM and VARCHAR as UTF8,
 * JSON as UTF8 with the JSON annotation, BLOB as bare bytes.
 */
function schemaElement({ name, type }: StoredColumn): ThriftField[] {
  const optional = (physical: number, ...rest: ThriftField[]): ThriftField[] => [
    [1, Compact.I32, physical],
    ...rest.filter(([id]) => id < 3),
    [3, Compact.I32, Parquet.Optional],
    [4, Compact.Binary, name],
    ...rest.filter(([id]) => id > 4),
  ];
  switch (type) {
    case "TIMESTAMP":
      return optional(
        Parquet.Int64,
        [6, Compact.I32, Parquet.TimestampMicros],
        [
          10,
          Compact.Struct,
          [
            [
              Parquet.LogicalTimestamp,
              Compact.Struct,
              [
                [1, Compact.True, false],
                [2, Compact.Struct, [[Parquet.Micros, Compact.Struct, []]]],
              ],
            ],
          ],
        ],
      );
    case "UUID":
      return optional(
        Parquet.FixedLenByteArray,
        [2, Compact.I32, 16],
        [10, Compact.Struct, [[Parquet.LogicalUuid, Compact.Struct, []]]],
      );
    case "FLOAT":
      return optional(Parquet.Float);
    case "DOUBLE":
      return optional(Parquet.Double);
    case "BIGINT":
      return optional(Parquet.Int64, [6, Compact.I32, Parquet.Int64Converted]);
    case "BLOB":
      return optional(Parquet.ByteArray);
    case "JSON":
      return optional(
        Parquet.ByteArray,
        [6, Compact.I32, Parquet.Json],
        [10, Compact.Struct, [[Parquet.LogicalJson, Compact.Struct, []]]],
      );
    default:
      return optional(Parquet.ByteArray, [6, Compact.I32, Parquet.Utf8]);
  }
}

const physicalType = (element: ThriftField[]): number => element[0]?.[2] as number;

/** One column chunk of a row group: one data page (definition levels, then values), compressed as a whole. */
interface Chunk {
  /** Bytes of its values: 4-byte length and bytes each for byte arrays, the type's width for the others. */
  valueBytes: number;
  nulls: number;
  /** Where its uncompressed page body starts in the scratch buffer. */
  bodyAt: number;
  /** Epoch ms of its least and greatest value (TIMESTAMP columns: their statistics). */
  min: number;
  max: number;
  /** Set once the page is compressed: its header, its (compressed) body, where the page starts in the file. */
  header: Uint8Array;
  body: Uint8Array;
  pageAt: number;
}

interface Group {
  rows: number;
  /** The bit-packed run's header (a varint) before the level bits. */
  runHeader: number[];
  levelBytes: number;
  chunks: Chunk[];
}

/**
 * Writes a stored object from rows' cells (see NULL_CELL): the reference's columns with DuckDB's physical and
 * logical types, row groups of 8,192 rows, one PLAIN data page per column chunk compressed with zstd, and
 * min/max statistics on TIMESTAMP columns. Text, JSON and BLOB cells are already PLAIN values and are copied
 * as they are; numbers, timestamps and UUIDs are parsed from their text into fixed-width values. In workerd
 * this replaced DuckDB's write (a staging file read back, cast and written again by the engine): no engine
 * memory at a flush, and see the README's bench:ingest entry for the CPU.
 *
 * @example await bucket.put(key, parquetFile(TELEMETRY_COLUMNS.logs, rows, "zstd"));
 */
export function parquetFile(
  columns: readonly StoredColumn[],
  rows: readonly StoredRow[],
  codec: ParquetCodec,
): Uint8Array {
  const count = rows.length;
  const values = Int32Array.from(columns, (column) => valueKind(column.type));
  const groups: Group[] = [];
  for (let first = 0; first < count; first += ROW_GROUP_ROWS) {
    const groupRows = Math.min(ROW_GROUP_ROWS, count - first);
    const bitBytes = Math.ceil(groupRows / 8);
    const runHeader: number[] = [];
    varint(runHeader, bitBytes * 2 + 1);
    groups.push({
      rows: groupRows,
      runHeader,
      // A 4-byte length, then one bit-packed run of bit width 1.
      levelBytes: 4 + runHeader.length + bitBytes,
      chunks: columns.map(() => ({
        valueBytes: 0,
        nulls: 0,
        bodyAt: 0,
        min: Number.POSITIVE_INFINITY,
        max: Number.NEGATIVE_INFINITY,
        header: new Uint8Array(0),
        body: new Uint8Array(0),
        pageAt: 0,
      })),
    });
  }
  rows.forEach(({ line }, row) => {
    const chunks = (groups[Math.floor(row / ROW_GROUP_ROWS)] as Group).chunks;
    let at = 0;
    chunks.forEach((chunk, column) => {
      const length = cellLength(line, at);
      at += 4;
      if (length === NULL_CELL) chunk.nulls++;
      else {
        const width = WIDTH[values[column] as Value];
        chunk.valueBytes += width || 4 + length;
        at += length;
      }
    });
    if (at !== line.length) throw new Error(`a row holds ${line.length} bytes of cells, its columns ${at}`);
  });
  let scratchBytes = 0;
  for (const group of groups) {
    for (const chunk of group.chunks) {
      chunk.bodyAt = scratchBytes;
      scratchBytes += group.levelBytes + chunk.valueBytes;
    }
  }
  const scratch = new Uint8Array(scratchBytes);
  for (const group of groups) {
    for (const chunk of group.chunks) {
      writeUint32(scratch, chunk.bodyAt, group.levelBytes - 4);
      scratch.set(group.runHeader, chunk.bodyAt + 4);
    }
  }
  layOut(scratch, columns, values, groups, rows);
  return assemble(columns, groups, scratch, codec, count);
}

/**
 * Copies every cell into its page: the hot loop of a flush. Cursors live in typed arrays and short cells are
 * copied byte by byte (a subarray and set per cell cost more than the bytes).
 */
function layOut(
  scratch: Uint8Array,
  columns: readonly StoredColumn[],
  values: Int32Array,
  groups: readonly Group[],
  rows: readonly StoredRow[],
): void {
  const view = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  const columnCount = columns.length;
  const bitsAt = new Float64Array(groups.length * columnCount);
  const valueAt = new Float64Array(groups.length * columnCount);
  const min = new Float64Array(groups.length * columnCount).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(groups.length * columnCount).fill(Number.NEGATIVE_INFINITY);
  groups.forEach((group, g) => {
    group.chunks.forEach((chunk, column) => {
      bitsAt[g * columnCount + column] = chunk.bodyAt + 4 + group.runHeader.length;
      valueAt[g * columnCount + column] = chunk.bodyAt + group.levelBytes;
    });
  });
  const count = rows.length;
  for (let row = 0; row < count; row++) {
    const line = (rows[row] as StoredRow).line;
    const first = Math.floor(row / ROW_GROUP_ROWS) * columnCount;
    const bit = 1 << (row & 7);
    const byte = (row % ROW_GROUP_ROWS) >> 3;
    let cell = 0;
    for (let column = 0; column < columnCount; column++) {
      const length =
        ((line[cell] as number) |
          ((line[cell + 1] as number) << 8) |
          ((line[cell + 2] as number) << 16) |
          ((line[cell + 3] as number) << 24)) >>>
        0;
      if (length === NULL_CELL) {
        cell += 4;
        continue;
      }
      const slot = first + column;
      const levels = (bitsAt[slot] as number) + byte;
      scratch[levels] = (scratch[levels] as number) | bit;
      let o = valueAt[slot] as number;
      const value = values[column] as Value;
      if (value === Value.Bytes) {
        const end = cell + 4 + length;
        if (length < 64) while (cell < end) scratch[o++] = line[cell++] as number;
        else {
          scratch.set(line.subarray(cell, end), o);
          o += end - cell;
          cell = end;
        }
      } else {
        const start = cell + 4;
        cell = start + length;
        if (value === Value.Timestamp) {
          const ms = integerText(line, start, cell, columns[column] as StoredColumn);
          if (ms < (min[slot] as number)) min[slot] = ms;
          if (ms > (max[slot] as number)) max[slot] = ms;
          writeMicros(view, o, ms);
        } else if (value === Value.Uuid)
          uuidBytes(line, start, cell, scratch, o, columns[column] as StoredColumn);
        else if (value === Value.BigInt) {
          view.setBigInt64(o, BigInt(cellText(line, start, cell)), true);
        } else {
          const number = numberText(line, start, cell, columns[column] as StoredColumn);
          if (value === Value.Float) view.setFloat32(o, number, true);
          else view.setFloat64(o, number, true);
        }
        o += WIDTH[value];
      }
      valueAt[slot] = o;
    }
  }
  groups.forEach((group, g) => {
    group.chunks.forEach((chunk, column) => {
      chunk.min = min[g * columnCount + column] as number;
      chunk.max = max[g * columnCount + column] as number;
    });
  });
}

/** Compresses each page, writes its header, and puts pages and footer together. */
function assemble(
  columns: readonly StoredColumn[],
  groups: readonly Group[],
  scratch: Uint8Array,
  codec: ParquetCodec,
  count: number,
): Uint8Array {
  let at = MAGIC.length;
  for (const group of groups) {
    for (const chunk of group.chunks) {
      const plain = scratch.subarray(chunk.bodyAt, chunk.bodyAt + group.levelBytes + chunk.valueBytes);
      chunk.body = codec === "zstd" ? zstdCompress(plain, ZSTD_LEVEL) : plain;
      chunk.header = compactStruct([
        [1, Compact.I32, Parquet.DataPage],
        [2, Compact.I32, plain.length],
        [3, Compact.I32, chunk.body.length],
        [
          5,
          Compact.Struct,
          [
            [1, Compact.I32, group.rows],
            [2, Compact.I32, Parquet.Plain],
            [3, Compact.I32, Parquet.Rle],
            [4, Compact.I32, Parquet.Rle],
          ],
        ],
      ]);
      chunk.pageAt = at;
      at += chunk.header.length + chunk.body.length;
    }
  }
  const footer = compactStruct(fileMetaData(columns, groups, codec, count));
  const file = new Uint8Array(at + footer.length + 8);
  file.set(MAGIC, 0);
  for (const group of groups) {
    for (const chunk of group.chunks) {
      file.set(chunk.header, chunk.pageAt);
      file.set(chunk.body, chunk.pageAt + chunk.header.length);
    }
  }
  file.set(footer, at);
  writeUint32(file, at + footer.length, footer.length);
  file.set(MAGIC, at + footer.length + 4);
  return file;
}

function fileMetaData(
  columns: readonly StoredColumn[],
  groups: readonly Group[],
  codec: ParquetCodec,
  count: number,
): ThriftField[] {
  const elements = columns.map(schemaElement);
  const schema: ThriftField[][] = [
    [
      [3, Compact.I32, Parquet.Required],
      [4, Compact.Binary, "duckdb_schema"],
      [5, Compact.I32, columns.length],
    ],
    ...elements,
  ];
  const rowGroups = groups.map((group): ThriftField[] => {
    const chunks = group.chunks.map((chunk, i): ThriftField[] => {
      const column = columns[i] as StoredColumn;
      const uncompressed = chunk.header.length + group.levelBytes + chunk.valueBytes;
      return [
        [2, Compact.I64, chunk.pageAt],
        [
          3,
          Compact.Struct,
          [
            [1, Compact.I32, physicalType(elements[i] as ThriftField[])],
            [2, Compact.List, { of: Compact.I32, items: [Parquet.Plain, Parquet.Rle] }],
            [3, Compact.List, { of: Compact.Binary, items: [column.name] }],
            [4, Compact.I32, codec === "zstd" ? Parquet.Zstd : Parquet.Uncompressed],
            [5, Compact.I64, group.rows],
            [6, Compact.I64, uncompressed],
            [7, Compact.I64, chunk.header.length + chunk.body.length],
            [9, Compact.I64, chunk.pageAt],
            [12, Compact.Struct, statistics(column, chunk)],
          ],
        ],
      ];
    });
    return [
      [1, Compact.List, { of: Compact.Struct, items: chunks }],
      [2, Compact.I64, group.chunks.reduce((sum, chunk) => sum + chunk.header.length + chunk.body.length, 0)],
      [3, Compact.I64, group.rows],
    ];
  });
  return [
    [1, Compact.I32, 1],
    [2, Compact.List, { of: Compact.Struct, items: schema }],
    [3, Compact.I64, count],
    [4, Compact.List, { of: Compact.Struct, items: rowGroups }],
    [6, Compact.Binary, "fluxrig mixer"],
  ];
}

/** A chunk's NULL count, and for TIMESTAMP columns its least and greatest value (DuckDB prunes row groups by them). */
function statistics(column: StoredColumn, chunk: Chunk): ThriftField[] {
  if (column.type !== "TIMESTAMP" || chunk.min > chunk.max) return [[3, Compact.I64, chunk.nulls]];
  const max = microsBytes(chunk.max);
  const min = microsBytes(chunk.min);
  return [
    [1, Compact.Binary, max],
    [2, Compact.Binary, min],
    [3, Compact.I64, chunk.nulls],
    [5, Compact.Binary, max],
    [6, Compact.Binary, min],
  ];
}

function microsBytes(ms: number): Uint8Array {
  const bytes = new Uint8Array(8);
  writeMicros(new DataView(bytes.buffer), 0, ms);
  return bytes;
}

/**
 * Writes epoch ms as INT64 microseconds, little-endian. `ms * 1000` is not exact past 2^53 µs (the year 2255,
 * and ts may reach 9999), so the product is formed per 32-bit word.
 */
function writeMicros(view: DataView, at: number, ms: number): void {
  if (ms < 0) {
    view.setBigInt64(at, BigInt(ms) * 1000n, true);
    return;
  }
  const msLow = ms % 4_294_967_296;
  const low = msLow * 1000;
  const lowWord = low % 4_294_967_296;
  view.setUint32(at, lowWord, true);
  view.setUint32(at + 4, ((ms - msLow) / 4_294_967_296) * 1000 + (low - lowWord) / 4_294_967_296, true);
}

function cellText(line: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(line[i] as number);
  return text;
}

function badCell(column: StoredColumn, line: Uint8Array, start: number, end: number, what: string): Error {
  return new Error(`column ${column.name}: cell "${cellText(line, start, end)}" is not ${what}`);
}

/** An integer's decimal text (the cells of `ts`: epoch ms), as a number. */
function integerText(line: Uint8Array, start: number, end: number, column: StoredColumn): number {
  const negative = line[start] === 0x2d;
  let value = 0;
  let i = negative ? start + 1 : start;
  if (i === end || end - i > 15) throw badCell(column, line, start, end, "an integer of at most 15 digits");
  for (; i < end; i++) {
    const digit = (line[i] as number) - 0x30;
    if (digit < 0 || digit > 9) throw badCell(column, line, start, end, "an integer");
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** A number's text as JavaScript wrote it (`NaN` and `Infinity` included), as a number. */
function numberText(line: Uint8Array, start: number, end: number, column: StoredColumn): number {
  const text = cellText(line, start, end);
  const number = Number(text);
  if (text === "" || (Number.isNaN(number) && text !== "NaN"))
    throw badCell(column, line, start, end, "a number");
  return number;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x61 + i] = 10 + i;
  HEX[0x41 + i] = 10 + i;
}

/** A UUID's canonical text (8-4-4-4-12 hex digits) as its 16 bytes, written at `out[at]`. */
function uuidBytes(
  line: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
  column: StoredColumn,
): void {
  if (end - start !== 36) throw badCell(column, line, start, end, "a UUID");
  let o = at;
  for (let i = start; i < end; i += 2) {
    if (i - start === 8 || i - start === 13 || i - start === 18 || i - start === 23) i++;
    const high = HEX[line[i] as number] as number;
    const low = HEX[line[i + 1] as number] as number;
    if (high < 0 || low < 0) throw badCell(column, line, start, end, "a UUID");
    out[o++] = (high << 4) | low;
  }
  if (
    line[start + 8] !== 0x2d ||
    line[start + 13] !== 0x2d ||
    line[start + 18] !== 0x2d ||
    line[start + 23] !== 0x2d
  ) {
    throw badCell(column, line, start, end, "a UUID");
  }
}

function cellLength(line: Uint8Array, at: number): number {
  if (at + 4 > line.length)
    throw new Error(`a row's cells end at byte ${line.length}, inside a cell's length`);
  const length =
    ((line[at] as number) |
      ((line[at + 1] as number) << 8) |
      ((line[at + 2] as number) << 16) |
      ((line[at + 3] as number) << 24)) >>>
    0;
  if (length !== NULL_CELL && at + 4 + length > line.length) {
    throw new Error(`a cell of ${length} bytes at byte ${at} runs past its row's ${line.length}`);
  }
  return length;
}
