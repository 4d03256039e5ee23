/** Small SQL builders for the query module; values never reach SQL except through these. */

/**
 * A SQL string literal (DuckDB does not treat backslashes specially). NUL cannot appear: the parameters
 * refuse it before SQL is built.
 *
 * @example sqlString("it's") // "'it''s'"
 */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A TIMESTAMP literal from epoch milliseconds.
 *
 * @example sqlTimestamp(0) // "epoch_ms(0)"
 */
export function sqlTimestamp(ms: number): string {
  return `epoch_ms(${Math.trunc(ms)})`;
}

const regexpEscape = (text: string) => text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);

/**
 * A regular expression (RE2) for the JSON text of an object holding `key` with the string `value`, as
 * `JSON.stringify` writes it (no spaces). Inside a JSON string every `"` is escaped, so an unescaped
 * `"key":` after `{` or `,` can only be a key; it may still be a nested object's, which callers check
 * exactly on the rows it selects.
 *
 * @example `regexp_matches(attributes, ${jsonStringMemberPattern("gear_id", "router")})`
 */
export function jsonStringMemberPattern(key: string, value: string): string {
  return sqlString(`[{,]${regexpEscape(`${JSON.stringify(key)}:${JSON.stringify(value)}`)}[,}]`);
}

/** JSON's number, true, false and null literals: the values whose text is their JSON text. */
const JSON_LITERAL = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;

/**
 * A regular expression (RE2) for the JSON text of an object holding `key` with a value whose text is
 * `text`: the string `text`, or, when `text` is a JSON literal (`1250`, `true`), that literal. Spaces
 * around `:` and `,` are allowed (files written elsewhere); callers check the rows it selects exactly.
 *
 * @example `regexp_matches(promoted::VARCHAR, ${jsonMemberTextPattern("amount", "1250")})`
 */
export function jsonMemberTextPattern(key: string, text: string): string {
  const values = [
    regexpEscape(JSON.stringify(text)),
    ...(JSON_LITERAL.test(text) ? [regexpEscape(text)] : []),
  ];
  return sqlString(`[{,]\\s*${regexpEscape(JSON.stringify(key))}\\s*:\\s*(?:${values.join("|")})\\s*[,}]`);
}

/**
 * A regular expression whose group 1 is the JSON-escaped text of `key`'s string value in a flat JSON
 * object (decode it with {@link unescapeJsonString}).
 *
 * @example `regexp_extract(labels, ${jsonStringCapturePattern("gear")}, 1)`
 */
export function jsonStringCapturePattern(key: string): string {
  return sqlString(`[{,]${regexpEscape(`${JSON.stringify(key)}:`)}"((?:[^"\\\\]|\\\\.)*)"`);
}

/**
 * The text of a JSON string's content as {@link jsonStringCapturePattern} captures it.
 *
 * @example unescapeJsonString('a\\"b') // 'a"b'
 */
export function unescapeJsonString(escaped: string): string {
  return JSON.parse(`"${escaped}"`) as string;
}

/**
 * `read_parquet` over registered file names, with a `filename` column when asked.
 *
 * @example readParquet(["a.parquet", "b.parquet"]) // "read_parquet(['a.parquet', 'b.parquet'])"
 */
export function readParquet(names: readonly string[], filename = false): string {
  return `read_parquet([${names.map(sqlString).join(", ")}]${filename ? ", filename=true" : ""})`;
}

/**
 * The SQL condition that keeps pass `index` of `of` passes by record id: every record, with all its copies, in
 * exactly one pass, and the passes of about equal size. The modulus is a UBIGINT: duckdb-wasm binds
 * `hash(…) % 8` as a DOUBLE modulo, and a 64-bit hash as a double is a multiple of 2^11, so nearly every
 * row fell in pass 0 and passes bounded no memory (an hour of 60,000 metrics in "2 passes" was one).
 *
 * @example `… WHERE ${recordShare(4, 1)}` // "hash(record_id) % 4::UBIGINT = 1"
 */
export function recordShare(of: number, index: number): string {
  return `hash(record_id) % ${Math.trunc(of)}::UBIGINT = ${Math.trunc(index)}`;
}
