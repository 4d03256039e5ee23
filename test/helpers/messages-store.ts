import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { writeMessages } from "../../bench/query-data.ts";
import { putIntoLocalR2, type StoredFile, telemetryBucketName } from "./local-r2.ts";
import { sqlString } from "./native-duckdb.ts";
import { startTestMixer, type TestMixer } from "./test-mixer.ts";

/** A test mixer started on a store that holds 24 hourly objects of journaled messages, and what they hold. */
export interface MessagesStoreMixer {
  mixer: TestMixer;
  /** The test's temp dir: the Parquet tree under `tree/`, the mixer's store under `store/`. */
  dir: string;
  /** Where the Parquet files were written. */
  tree: string;
  /**
   * A promoted amount of the oldest hour's messages: few rows match it, so a newest-first scan for it reads
   * every object.
   */
  amount: string;
  /** Stops the mixer and removes the temp dir. */
  dispose(): Promise<void>;
}

/**
 * Writes `rows` journaled messages over the 24 hours before `end` natively, as the query benchmark writes
 * them (`rowsPerObject` a file), puts them into the local R2 a new test mixer then serves, and starts it.
 * `inspect` runs with the native connection while it is open (e.g. to compute what a query must answer).
 *
 * @example const { mixer, amount, dispose } = await startMixerWithMessages("fluxrig-scan-", END, { rows: 48_000, rowsPerObject: 2_000 });
 */
export async function startMixerWithMessages(
  prefix: string,
  end: number,
  options: {
    rows: number;
    rowsPerObject: number;
    inspect?: (native: DuckDBConnection, context: { tree: string; amount: string }) => Promise<void>;
  },
): Promise<MessagesStoreMixer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const tree = join(dir, "tree");
  try {
    const native = await (await DuckDBInstance.create(":memory:", { threads: "1" })).connect();
    let files: StoredFile[];
    let amount: string;
    try {
      ({ files } = await writeMessages(native, tree, end, {
        rows: options.rows,
        rowsPerObject: options.rowsPerObject,
      }));
      const [oldest] = (
        await native.runAndReadAll(
          `SELECT (promoted ->> 'amount') AS amount FROM ${sqlString(files[0]?.path ?? "")} WHERE src_gear_id = 'hsm' LIMIT 1`,
        )
      ).getRowObjectsJS();
      amount = String(oldest?.amount);
      await options.inspect?.(native, { tree, amount });
    } finally {
      native.closeSync();
    }
    const storeDir = join(dir, "store");
    await mkdir(storeDir);
    await putIntoLocalR2(join(storeDir, "mixer"), await telemetryBucketName(), files);
    const mixer = await startTestMixer({ storeDir });
    return {
      mixer,
      dir,
      tree,
      amount,
      async dispose() {
        await mixer.dispose();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
