import type { StoredColumn } from "./parquet-schema.ts";
import { Compact, compactStruct, Parquet, type ThriftField, varint } from "./parquet-thrift.ts";
import { plainWidth } from "./rows/plain-values.ts";
import { NULL_CELL, type StoredRow } from "./rows/stored-row.ts";
import { writeUint32 } from "./utf8-sink.ts";
import { zstdCompress, zstdReady } from "./zstd.ts";

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/** Rows per row group (a multiple of 8: each group's definition levels start on a byte). */
const ROW_GROUP_ROWS = 8_192;

/** zstd's fastest level: a flush's objects are small and compaction rewrites them at DuckDB's level. */
const ZSTD_LEVEL = 1;

/** The codecs this writer compresses pages with (snappy goes through DuckDB, see parquet-writer.ts). */
export type ParquetCodec = "zstd" | "none";

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
  /** The PLAIN bytes of its least and greatest value (TIMESTAMP columns: their statistics), if any. */
  min?: Uint8Array;
  max?: Uint8Array;
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
 * min/max statistics on TIMESTAMP columns. Every cell is already a PLAIN value (rows/plain-values.ts), so this
 * copies bytes and parses nothing. In workerd this replaced DuckDB's write (a staging file read back, cast and
 * written again by the engine): no engine memory at a flush, and see the README's bench:ingest entry for the CPU.
 *
 * @example await bucket.put(key, await parquetFile(TELEMETRY_COLUMNS.logs, rows, "zstd"));
 */
export async function parquetFile(
  columns: readonly StoredColumn[],
  rows: readonly StoredRow[],
  codec: ParquetCodec,
): Promise<Uint8Array> {
  if (codec === "zstd") await zstdReady();
  const count = rows.length;
  const widths = Int32Array.from(columns, (column) => plainWidth(column.type));
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
        header: new Uint8Array(0),
        body: new Uint8Array(0),
        pageAt: 0,
      })),
    });
  }
  measure(columns, widths, groups, rows);
  // One row group at a time through one scratch buffer: workerd charges a buffer of a megabyte or more far
  // more per byte than small ones (see transcode-cbor.ts), and a whole flush uncompressed is megabytes.
  const time = Int32Array.from(columns, (column) => (column.type === "TIMESTAMP" ? 1 : 0));
  const groupBytes = (group: Group) =>
    group.chunks.reduce((sum, chunk) => sum + group.levelBytes + chunk.valueBytes, 0);
  const scratch = new Uint8Array(Math.max(...groups.map(groupBytes)));
  groups.forEach((group, g) => {
    let at = 0;
    for (const chunk of group.chunks) {
      chunk.bodyAt = at;
      at += group.levelBytes + chunk.valueBytes;
    }
    scratch.fill(0, 0, at); // level bits are or-ed in
    for (const chunk of group.chunks) {
      writeUint32(scratch, chunk.bodyAt, group.levelBytes - 4);
      scratch.set(group.runHeader, chunk.bodyAt + 4);
    }
    layOut(scratch, widths, time, group, rows, g * ROW_GROUP_ROWS);
    for (const chunk of group.chunks) {
      const plain = scratch.subarray(chunk.bodyAt, chunk.bodyAt + group.levelBytes + chunk.valueBytes);
      chunk.body = codec === "zstd" ? zstdCompress(plain, ZSTD_LEVEL) : plain.slice();
    }
  });
  return assemble(columns, groups, codec, count);
}

/** Counts each chunk's value bytes and NULLs, checking every row's cells against the columns. */
function measure(
  columns: readonly StoredColumn[],
  widths: Int32Array,
  groups: readonly Group[],
  rows: readonly StoredRow[],
): void {
  const columnCount = columns.length;
  const valueBytes = new Float64Array(columnCount);
  const nulls = new Int32Array(columnCount);
  groups.forEach((group, g) => {
    valueBytes.fill(0);
    nulls.fill(0);
    const end = g * ROW_GROUP_ROWS + group.rows;
    for (let row = g * ROW_GROUP_ROWS; row < end; row++) {
      const line = (rows[row] as StoredRow).line;
      let at = 0;
      for (let column = 0; column < columnCount; column++) {
        const length = cellLength(line, at);
        at += 4;
        if (length === NULL_CELL) {
          nulls[column] = (nulls[column] as number) + 1;
          continue;
        }
        const width = widths[column] as number;
        if (width > 0 && length !== width) {
          const { name, type } = columns[column] as StoredColumn;
          throw new Error(
            `column ${name}: a cell of ${length} bytes, where a ${String(type)} value takes ${width}`,
          );
        }
        valueBytes[column] = (valueBytes[column] as number) + (width || 4 + length);
        at += length;
      }
      if (at !== line.length) throw new Error(`a row holds ${line.length} bytes of cells, its columns ${at}`);
    }
    group.chunks.forEach((chunk, column) => {
      chunk.valueBytes = valueBytes[column] as number;
      chunk.nulls = nulls[column] as number;
    });
  });
}

/**
 * Copies the cells of one row group's rows into its pages: the hot loop of a flush. Byte arrays keep their
 * 4-byte length (PLAIN), fixed-width values drop it. Cursors live in typed arrays and short cells are copied
 * byte by byte (a subarray and set per cell cost more than the bytes).
 */
function layOut(
  scratch: Uint8Array,
  widths: Int32Array,
  time: Int32Array,
  group: Group,
  rows: readonly StoredRow[],
  first: number,
): void {
  const columnCount = widths.length;
  const bitsAt = Float64Array.from(group.chunks, (chunk) => chunk.bodyAt + 4 + group.runHeader.length);
  const valueAt = Float64Array.from(group.chunks, (chunk) => chunk.bodyAt + group.levelBytes);
  // Where the least and greatest TIMESTAMP of each column is: its row and its offset in that row.
  const minRow = new Int32Array(columnCount).fill(-1);
  const minCell = new Int32Array(columnCount);
  const maxRow = new Int32Array(columnCount).fill(-1);
  const maxCell = new Int32Array(columnCount);
  const end = first + group.rows;
  for (let row = first; row < end; row++) {
    const line = (rows[row] as StoredRow).line;
    const bit = 1 << (row & 7);
    const byte = (row - first) >> 3;
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
      const levels = (bitsAt[column] as number) + byte;
      scratch[levels] = (scratch[levels] as number) | bit;
      let o = valueAt[column] as number;
      const fixed = widths[column] !== 0;
      if (fixed) {
        cell += 4;
        if (time[column] === 1) {
          const low = minRow[column] as number;
          if (low === -1 || lessInt64(line, cell, (rows[low] as StoredRow).line, minCell[column] as number)) {
            minRow[column] = row;
            minCell[column] = cell;
          }
          const high = maxRow[column] as number;
          if (
            high === -1 ||
            lessInt64((rows[high] as StoredRow).line, maxCell[column] as number, line, cell)
          ) {
            maxRow[column] = row;
            maxCell[column] = cell;
          }
        }
      }
      const cellEnd = cell + (fixed ? 0 : 4) + length;
      if (length < 64) while (cell < cellEnd) scratch[o++] = line[cell++] as number;
      else {
        scratch.set(line.subarray(cell, cellEnd), o);
        o += cellEnd - cell;
        cell = cellEnd;
      }
      valueAt[column] = o;
    }
  }
  group.chunks.forEach((chunk, column) => {
    const low = minRow[column] as number;
    const high = maxRow[column] as number;
    if (low < 0 || high < 0) return;
    chunk.min = (rows[low] as StoredRow).line.slice(minCell[column], (minCell[column] as number) + 8);
    chunk.max = (rows[high] as StoredRow).line.slice(maxCell[column], (maxCell[column] as number) + 8);
  });
}

/** Whether the little-endian INT64 at `a[aAt]` is less than the one at `b[bAt]` (signed, as Parquet orders them). */
function lessInt64(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  const aHigh = word(a, aAt + 4) | 0;
  const bHigh = word(b, bAt + 4) | 0;
  return aHigh < bHigh || (aHigh === bHigh && word(a, aAt) >>> 0 < word(b, bAt) >>> 0);
}

const word = (bytes: Uint8Array, at: number): number =>
  (bytes[at] as number) |
  ((bytes[at + 1] as number) << 8) |
  ((bytes[at + 2] as number) << 16) |
  ((bytes[at + 3] as number) << 24);

/** Writes each page's header and puts pages and footer together. */
function assemble(
  columns: readonly StoredColumn[],
  groups: readonly Group[],
  codec: ParquetCodec,
  count: number,
): Uint8Array {
  let at = MAGIC.length;
  for (const group of groups) {
    for (const chunk of group.chunks) {
      chunk.header = compactStruct([
        [1, Compact.I32, Parquet.DataPage],
        [2, Compact.I32, group.levelBytes + chunk.valueBytes],
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
            [12, Compact.Struct, statistics(chunk)],
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
function statistics(chunk: Chunk): ThriftField[] {
  if (!chunk.min || !chunk.max) return [[3, Compact.I64, chunk.nulls]];
  return [
    [1, Compact.Binary, chunk.max],
    [2, Compact.Binary, chunk.min],
    [3, Compact.I64, chunk.nulls],
    [5, Compact.Binary, chunk.max],
    [6, Compact.Binary, chunk.min],
  ];
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
