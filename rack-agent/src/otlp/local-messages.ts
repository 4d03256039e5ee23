import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { clearTimeout, setTimeout } from "node:timers";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { JournalRecord } from "../../../shared/journal/record.ts";
import { groupByPartition, groupBySpec, messagesObjectKey } from "../../../shared/storage/object-keys.ts";
import { type ColumnType, MESSAGE_COLUMNS } from "../../../shared/storage/parquet-schema.ts";
import { writeDurably } from "../fs/write-durably.ts";

export interface LocalMessagesOptions {
  /** `observability.otlp.messages.data_dir`: the `messages/` folder of the reference's tree. */
  dir: string;
  warn: (message: string) => void;
  /** Buffered records are written after this long. Default 5 s, as `observability.embedded.flush_interval`. */
  flushIntervalMs?: number;
  /** Or once this many are buffered. Default 10,000. */
  maxRecords?: number;
}

/** hyparquet-writer's column types for ours; ENUM columns are strings, as the mixer stores them. */
const PARQUET_TYPE = {
  TIMESTAMP: "TIMESTAMP",
  UUID: "UUID",
  VARCHAR: "STRING",
  FLOAT: "FLOAT",
  DOUBLE: "DOUBLE",
  JSON: "JSON",
  BLOB: "BYTE_ARRAY",
} as const;

function parquetType(type: ColumnType) {
  return typeof type === "string" ? PARQUET_TYPE[type as keyof typeof PARQUET_TYPE] : "STRING";
}

/** A journal record as the telemetry client builds it: `spec` names the folder and is not a column. */
type LocalRecord = Omit<JournalRecord, "raw_msg"> & { raw_msg: Uint8Array | null };

/**
 * `[observability.otlp.messages]`: with the OTLP tier the rack keeps its journal records (the fluxMsgs it
 * journals, masked as the journal masks them) as Parquet under `dir`, laid out as the reference's `messages/`
 * tree: `generic/YYYY/MM/DD/HH/fluxmsg_<ULID>.parquet`, `fluxSpec/<spec>/YYYY/MM/DD/HH/<stem>_<ULID>.parquet`,
 * with the mixer's columns and types. Written by hyparquet-writer (SNAPPY: it has no zstd), so the rack needs
 * no DuckDB. Files are written whole (temp file, fsync, rename): a reader never sees half of one.
 *
 * @example
 * const local = new LocalMessages({ dir: "./data/messages", warn: log.warn });
 * local.add(record);
 * await local.close(); // everything buffered is on disk
 */
export class LocalMessages {
  readonly #o: LocalMessagesOptions;
  readonly #dir: string;
  #buffer: LocalRecord[] = [];
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Records on disk, and records lost to failed writes (told through `warn`). */
  written = 0;
  failed = 0;

  constructor(options: LocalMessagesOptions) {
    this.#o = options;
    this.#dir = resolve(options.dir);
  }

  add(record: LocalRecord): void {
    this.#buffer.push(record);
    if (this.#buffer.length >= (this.#o.maxRecords ?? 10_000)) void this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#o.flushIntervalMs ?? 5_000);
      this.#timer.unref();
    }
  }

  /** Writes what is buffered; resolves when it and every earlier write are on disk (or told as failed). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const records = this.#buffer;
    this.#buffer = [];
    if (records.length > 0) this.#writing = this.#writing.then(() => this.#write(records));
    return this.#writing;
  }

  close(): Promise<void> {
    return this.flush();
  }

  async #write(records: LocalRecord[]): Promise<void> {
    for (const [spec, group] of groupBySpec(records)) {
      for (const [start, partition] of groupByPartition(group, "hour")) {
        // The key starts with "messages/": `dir` is that folder.
        const key = messagesObjectKey(spec, start, { partitionBy: "hour", format: "parquet" });
        const path = join(this.#dir, key.slice("messages/".length));
        try {
          await mkdir(dirname(path), { recursive: true });
          await writeDurably(dirname(path), path.slice(dirname(path).length + 1), messagesParquet(partition));
          this.written += partition.length;
        } catch (error) {
          this.failed += partition.length;
          this.#o.warn(`journal: cannot write ${partition.length} message(s) to ${path}: ${error}`);
        }
      }
    }
  }
}

/**
 * One Parquet file of journal records, with the stored message columns in their order.
 *
 * @example await writeFile("fluxmsg.parquet", messagesParquet(records));
 */
export function messagesParquet(records: readonly LocalRecord[]): Uint8Array {
  const columnData = MESSAGE_COLUMNS.map(({ name, type }) => ({
    name,
    type: parquetType(type),
    data: records.map((record) => {
      const value = record[name as keyof LocalRecord];
      return name === "ts" ? new Date(value as number) : (value ?? null);
    }),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: "fluxrig-rack" }));
}
