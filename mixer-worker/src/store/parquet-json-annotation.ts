import { Compact, Parquet } from "./parquet-thrift.ts";

/**
 * Marks string columns of a finished Parquet file as JSON. DuckDB 0.9.1 (the last duckdb-wasm with Parquet
 * built in) writes a JSON column as a plain UTF8 string; newer DuckDB writes `converted_type JSON` plus the
 * `JSON` logical type, and reads such a column back as JSON. This edits the footer (Thrift compact protocol)
 * to say the same; data pages are untouched and their offsets stay valid, since the footer comes after them.
 */

const MAGIC = 0x31524150; // "PAR1", little-endian
const LOGICAL_TYPE_FIELD = 10;
const LOGICAL_JSON_FIELD = 12;

interface Edit {
  at: number;
  remove: number;
  insert: readonly number[];
}

/**
 * Returns `file` with the named top-level columns annotated as JSON, or throws if one is missing or is not a
 * UTF8 string column (the writer's schema and the file disagree).
 *
 * @example
 * const annotated = annotateJsonColumns(bytes, ["attributes"]);
 * // native DuckDB: DESCRIBE SELECT attributes FROM 'x.parquet' → JSON
 */
export function annotateJsonColumns(file: Uint8Array, names: readonly string[]): Uint8Array {
  if (names.length === 0) return file;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 12 || view.getUint32(file.length - 4, true) !== MAGIC) {
    throw new Error("not a Parquet file: PAR1 magic missing at the end");
  }
  const footerLength = view.getUint32(file.length - 8, true);
  const footerStart = file.length - 8 - footerLength;
  if (footerStart < 4)
    throw new Error(`not a Parquet file: footer of ${footerLength} bytes in ${file.length}`);
  const footer = file.subarray(footerStart, file.length - 8);
  const edits = jsonEdits(new CompactReader(footer), new Set(names));
  const patched = applyEdits(footer, edits);
  const out = new Uint8Array(footerStart + patched.length + 8);
  out.set(file.subarray(0, footerStart));
  out.set(patched, footerStart);
  const tail = new DataView(out.buffer, out.length - 8);
  tail.setUint32(0, patched.length, true);
  tail.setUint32(4, MAGIC, true);
  return out;
}

/** Walks FileMetaData to its field 2, the flattened schema list, and plans the edits for the named leaves. */
function jsonEdits(reader: CompactReader, pending: Set<string>): Edit[] {
  const edits: Edit[] = [];
  let fieldId = 0;
  for (;;) {
    const header = reader.fieldHeader(fieldId);
    if (header.type === Compact.Stop) break;
    fieldId = header.id;
    if (fieldId !== 2) {
      reader.skip(header.type);
      continue;
    }
    const { size } = reader.listHeader();
    for (let i = 0; i < size; i++) {
      const element = reader.schemaElement();
      if (!pending.has(element.name)) continue;
      pending.delete(element.name);
      if (
        element.type !== Parquet.ByteArray ||
        element.convertedType?.value !== Parquet.Utf8 ||
        element.hasLogicalType
      ) {
        throw new Error(`column ${element.name} is not a plain UTF8 string column; cannot mark it as JSON`);
      }
      edits.push({ at: element.convertedType.at, remove: 1, insert: [zigzag(Parquet.Json)] });
      edits.push({ at: element.stopAt, remove: 0, insert: jsonLogicalTypeField(element.lastFieldId) });
    }
    break;
  }
  if (pending.size > 0) throw new Error(`no column named ${[...pending].join(", ")} in the Parquet schema`);
  return edits;
}

/** SchemaElement field 10 (LogicalType), holding the union's member 12 (JsonType, an empty struct). */
function jsonLogicalTypeField(lastFieldId: number): number[] {
  const delta = LOGICAL_TYPE_FIELD - lastFieldId;
  if (delta < 1 || delta > 15) throw new Error(`unexpected schema field ${lastFieldId} before logicalType`);
  return [
    (delta << 4) | Compact.Struct,
    (LOGICAL_JSON_FIELD << 4) | Compact.Struct,
    Compact.Stop,
    Compact.Stop,
  ];
}

function applyEdits(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const edit of [...edits].sort((a, b) => a.at - b.at)) {
    pieces.push(bytes.subarray(from, edit.at), Uint8Array.from(edit.insert));
    from = edit.at + edit.remove;
  }
  pieces.push(bytes.subarray(from));
  const result = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    result.set(piece, at);
    at += piece.length;
  }
  return result;
}

const zigzag = (n: number) => (n << 1) ^ (n >> 31);

interface SchemaElementInfo {
  name: string;
  type: number | undefined;
  convertedType: { value: number; at: number } | undefined;
  hasLogicalType: boolean;
  lastFieldId: number;
  stopAt: number;
}

/** Just enough of Thrift's compact protocol to read a schema and skip everything else. */
class CompactReader {
  private pos = 0;
  private readonly decoder = new TextDecoder();

  constructor(private readonly bytes: Uint8Array) {}

  fieldHeader(lastId: number): { type: number; id: number } {
    const byte = this.byte();
    const type = byte & 0x0f;
    if (type === Compact.Stop) return { type, id: lastId };
    const delta = byte >> 4;
    return { type, id: delta === 0 ? this.zigzagVarint() : lastId + delta };
  }

  listHeader(): { size: number; elementType: number } {
    const byte = this.byte();
    const size = byte >> 4;
    return { size: size === 15 ? this.varint() : size, elementType: byte & 0x0f };
  }

  schemaElement(): SchemaElementInfo {
    const info: SchemaElementInfo = {
      name: "",
      type: undefined,
      convertedType: undefined,
      hasLogicalType: false,
      lastFieldId: 0,
      stopAt: 0,
    };
    for (;;) {
      const at = this.pos;
      const header = this.fieldHeader(info.lastFieldId);
      if (header.type === Compact.Stop) {
        info.stopAt = at;
        return info;
      }
      info.lastFieldId = header.id;
      if (header.id === 1 && header.type === Compact.I32) info.type = this.zigzagVarint();
      else if (header.id === 4 && header.type === Compact.Binary) info.name = this.string();
      else if (header.id === 6 && header.type === Compact.I32) {
        const valueAt = this.pos;
        info.convertedType = { value: this.zigzagVarint(), at: valueAt };
        if (this.pos - valueAt !== 1) info.convertedType.value = -1; // only a one-byte value is patched in place
      } else {
        if (header.id === LOGICAL_TYPE_FIELD) info.hasLogicalType = true;
        this.skip(header.type);
      }
    }
  }

  skip(type: number): void {
    switch (type) {
      case Compact.True:
      case Compact.False:
        return;
      case Compact.Byte:
        this.pos += 1;
        return;
      case Compact.I16:
      case Compact.I32:
      case Compact.I64:
        this.varint();
        return;
      case Compact.Double:
        this.pos += 8;
        return;
      case Compact.Binary:
        this.pos += this.varint();
        return;
      case Compact.List:
      case Compact.Set: {
        const { size, elementType } = this.listHeader();
        // Booleans inside a list take one byte each.
        for (let i = 0; i < size; i++) this.skip(elementType <= Compact.False ? Compact.Byte : elementType);
        return;
      }
      case Compact.Map: {
        const size = this.varint();
        if (size === 0) return;
        const kinds = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kinds >> 4);
          this.skip(kinds & 0x0f);
        }
        return;
      }
      case Compact.Struct: {
        let id = 0;
        for (;;) {
          const header = this.fieldHeader(id);
          if (header.type === Compact.Stop) return;
          id = header.id;
          this.skip(header.type);
        }
      }
      default:
        throw new Error(`corrupt Parquet footer: Thrift type ${type} at byte ${this.pos}`);
    }
  }

  private byte(): number {
    const value = this.bytes[this.pos++];
    if (value === undefined) throw new Error("corrupt Parquet footer: it ends early");
    return value;
  }

  private varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  }

  private zigzagVarint(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private string(): string {
    const length = this.varint();
    const text = this.decoder.decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }
}
