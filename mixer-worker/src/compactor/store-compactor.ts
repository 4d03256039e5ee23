import { DurableObject } from "cloudflare:workers";
import type { TimeWindow } from "../../../shared/telemetry/query-params.ts";
import { mixerConfig } from "../config.ts";
import type { MixerEnv } from "../env.ts";
import { consoleLine } from "../self/console-line.ts";
import { compactPartition, type PartitionCompaction, partitionFolders } from "../store/index.ts";

/** Partitions waiting for a look, in the object's storage: `partition:<folder>` → {@link Queued}. */
const PENDING = "partition:";

interface Queued {
  /** Epoch ms of its next look. */
  due: number;
  /** Whether a pass looked at it since it was queued (then it waits only to settle). */
  looked: boolean;
  /** Times it was queued: a pass that sees this change while it looks knows of a write it may have missed. */
  notes: number;
}
/** One alarm works at most this long (wall time), then leaves the rest to the next, a second later. */
const PASS_BUDGET_MS = 20_000;

/** The counters of {@link CompactionStatus}, kept in the object's storage under `stats`. */
type Stats = Pick<CompactionStatus, "passes" | "failures" | "last_error" | "last_pass" | "totals">;

const NO_STATS: Stats = {
  passes: 0,
  failures: 0,
  last_error: null,
  last_pass: null,
  totals: {
    ms: 0,
    partitions: 0,
    merged: 0,
    written: 0,
    rows_in: 0,
    rows_out: 0,
    bytes_read: 0,
    bytes_written: 0,
    deleted: 0,
    memory: null,
  },
};

/** What one pass of the compactor did, for /health and the benchmark. */
export interface CompactionPassReport {
  at: string;
  ms: number;
  partitions: number;
  /** Objects merged, and merged objects written in their stead. */
  merged: number;
  written: number;
  rows_in: number;
  rows_out: number;
  bytes_read: number;
  bytes_written: number;
  /** Replaced objects deleted after their grace period. */
  deleted: number;
  /** The isolate's memory while it merged (bytes; see Fluxrig-Isolate-Memory): DuckDB's, and the peak with held bytes. */
  memory: { wasm: number; peak: number } | null;
}

export interface CompactionStatus {
  enabled: boolean;
  /** Partitions queued and not looked at yet. */
  queued_partitions: number;
  /** Partitions looked at that need another look: open, objects too young, or replaced objects to delete. */
  settling_partitions: number;
  passes: number;
  failures: number;
  last_error: string | null;
  last_pass: CompactionPassReport | null;
  /** Sums of every pass so far, and the most memory any took. */
  totals: Omit<CompactionPassReport, "at">;
}

/**
 * The store's compactor: one Durable Object that keeps the partitions written to since their last look and,
 * every `observability.embedded.compaction.check_interval`, compacts them (store/compaction/): small flush
 * objects merged into few large sorted ones, what they replaced deleted once no reader can need it. The
 * bridge tells it which partitions it wrote; `queueWindow` adds every partition of a window (objects written
 * before compaction existed, or put there by other means). A partition stays queued while it is open, holds
 * objects too young to take, or holds replaced objects not yet deleted.
 */
export class StoreCompactor extends DurableObject<MixerEnv> {
  private passing: Promise<void> | undefined;
  /** What the passes did, kept in storage: the runtime evicts an idle object between alarms. */
  private stats: Promise<Stats> | undefined;

  private get settings() {
    const { compaction, storage } = mixerConfig(this.env).config.observability.embedded;
    return { ...compaction, compression: storage.compression };
  }

  /** Queues the partition folders the bridge wrote to; each gets a look within a check interval. */
  async noteWritten(folders: string[]): Promise<void> {
    const { enabled, check_interval } = this.settings;
    if (!enabled || folders.length === 0) return;
    // A partition written to again is looked at again within a check interval, as a new one.
    await this.queue(folders, Date.now() + check_interval);
  }

  /** Queues every partition of `window` under every storage root, due at once; answers how many. */
  async queueWindow(window: TimeWindow): Promise<number> {
    const folders = await partitionFolders(this.env.TELEMETRY, window);
    await this.queue(folders, Date.now());
    return folders.length;
  }

  async status(): Promise<CompactionStatus> {
    const queued = [...(await this.ctx.storage.list<Queued>({ prefix: PENDING })).values()];
    const looked = queued.filter((entry) => entry.looked).length;
    return {
      enabled: this.settings.enabled,
      queued_partitions: queued.length - looked,
      settling_partitions: looked,
      ...(await this.loadStats()),
    };
  }

  private loadStats(): Promise<Stats> {
    this.stats ??= this.ctx.storage.get<Stats>("stats").then((stored) => stored ?? NO_STATS);
    return this.stats;
  }

  override async alarm(): Promise<void> {
    if (!this.settings.enabled) return;
    this.passing ??= this.pass().finally(() => {
      this.passing = undefined;
    });
    await this.passing;
  }

  private async pass(): Promise<void> {
    const { check_interval, min_objects, compression } = this.settings;
    const started = Date.now();
    const queued = await this.ctx.storage.list<Queued>({ prefix: PENDING });
    const due = [...queued].filter(([, entry]) => entry.due <= started).sort((a, b) => a[1].due - b[1].due);
    const done: PartitionCompaction[] = [];
    const stats = { ...(await this.loadStats()) };
    let cut = false;
    for (const [key, entry] of due) {
      if (Date.now() - started > PASS_BUDGET_MS) {
        cut = true;
        break;
      }
      const folder = key.slice(PENDING.length);
      try {
        const report = await compactPartition(this.env.TELEMETRY, folder, {
          minObjects: min_objects,
          compression,
        });
        done.push(report);
        for (const sidecar of [report.rollup, report.traceIndex]) {
          if (sidecar?.error) consoleLine("warn", `compaction: ${folder}: no sidecar: ${sidecar.error}`);
        }
        const current = await this.ctx.storage.get<Queued>(key);
        if (current && current.notes !== entry.notes) {
          // Queued again while the pass ran (a write its listing may have missed): looked at again within a
          // check interval, as new (not at once: a busy open partition would be looked at every second).
          await this.ctx.storage.put(key, { ...current, due: Date.now() + check_interval, looked: false });
        } else if (report.unsettled) {
          await this.ctx.storage.put(key, { ...entry, due: Date.now() + check_interval, looked: true });
        } else await this.ctx.storage.delete(key);
      } catch (error) {
        stats.failures++;
        stats.last_error = `${folder}: ${(error as Error).message}`.slice(0, 500);
        consoleLine("error", `compaction: ${stats.last_error}`);
        const current = await this.ctx.storage.get<Queued>(key);
        await this.ctx.storage.put(key, {
          ...(current ?? entry),
          due: Date.now() + check_interval,
          looked: false,
        });
      }
    }
    const p = passReport(started, done);
    Object.assign(stats, { passes: stats.passes + 1, last_pass: p, totals: addUp(stats.totals, p) });
    this.stats = Promise.resolve(stats);
    await this.ctx.storage.put("stats", stats);
    if (p.merged + p.deleted > 0) {
      consoleLine(
        "info",
        `compaction: ${p.partitions} partitions: ${p.merged} objects merged into ${p.written} (${p.rows_out} rows), ${p.deleted} replaced objects deleted, in ${p.ms} ms`,
      );
    }
    const left = [...(await this.ctx.storage.list<Queued>({ prefix: PENDING })).values()];
    if (left.length > 0)
      await this.armBy(cut ? Date.now() + 1_000 : Math.min(...left.map((entry) => entry.due)));
  }

  /**
   * Queues `folders` for a look by `due` (an earlier due of an entry stands), as not looked at. Each is noted
   * anew even when queued already, so that a pass looking at it now keeps it queued. Storage takes at most
   * 128 keys a get or put.
   */
  private async queue(folders: string[], due: number): Promise<void> {
    const keys = [...new Set(folders)].map((folder) => PENDING + folder);
    for (let i = 0; i < keys.length; i += 128) {
      const batch = keys.slice(i, i + 128);
      const queued = await this.ctx.storage.get<Queued>(batch);
      await this.ctx.storage.put(
        Object.fromEntries(
          batch.map((key): [string, Queued] => {
            const entry = queued.get(key);
            return [
              key,
              { due: Math.min(due, entry?.due ?? due), looked: false, notes: (entry?.notes ?? 0) + 1 },
            ];
          }),
        ),
      );
    }
    await this.armBy(due);
  }

  /** Makes the alarm ring by `at` (not before a second from now, not later than it is set for). */
  private async armBy(at: number): Promise<void> {
    const when = Math.max(at, Date.now() + 1_000);
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > when) await this.ctx.storage.setAlarm(when);
  }
}

function addUp(totals: Omit<CompactionPassReport, "at">, pass: CompactionPassReport) {
  const memory =
    totals.memory && pass.memory
      ? {
          wasm: Math.max(totals.memory.wasm, pass.memory.wasm),
          peak: Math.max(totals.memory.peak, pass.memory.peak),
        }
      : (totals.memory ?? pass.memory);
  return {
    ms: totals.ms + pass.ms,
    partitions: totals.partitions + pass.partitions,
    merged: totals.merged + pass.merged,
    written: totals.written + pass.written,
    rows_in: totals.rows_in + pass.rows_in,
    rows_out: totals.rows_out + pass.rows_out,
    bytes_read: totals.bytes_read + pass.bytes_read,
    bytes_written: totals.bytes_written + pass.bytes_written,
    deleted: totals.deleted + pass.deleted,
    memory,
  };
}

function passReport(started: number, done: PartitionCompaction[]): CompactionPassReport {
  const sum = (
    field: "merged" | "written" | "rowsIn" | "rowsOut" | "bytesRead" | "bytesWritten" | "deleted",
  ) => done.reduce((total, report) => total + report[field], 0);
  const memories = done.flatMap((report) => (report.memory ? [report.memory] : []));
  return {
    at: new Date(started).toISOString(),
    ms: Date.now() - started,
    partitions: done.length,
    merged: sum("merged"),
    written: sum("written"),
    rows_in: sum("rowsIn"),
    rows_out: sum("rowsOut"),
    bytes_read: sum("bytesRead"),
    bytes_written: sum("bytesWritten"),
    deleted: sum("deleted"),
    memory:
      memories.length === 0
        ? null
        : {
            wasm: Math.max(...memories.map((memory) => memory.wasm)),
            peak: Math.max(...memories.map((memory) => memory.peak)),
          },
  };
}
