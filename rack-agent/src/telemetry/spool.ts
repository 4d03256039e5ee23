import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import { writeAllDurably } from "../fs/write-durably.ts";
import type { SealedBatch } from "./record-batch.ts";
import type { DropHandler, DropReason } from "./stats.ts";

/** One spooled batch: the file `<msgID>.<records>.cbor`, so the index is rebuilt from names alone. */
export interface SpoolEntry {
  name: string;
  records: number;
  bytes: number;
}

/** A batch waiting for the disk, and whoever waits for it. */
interface QueuedWrite {
  entry: SpoolEntry;
  body: Uint8Array;
  written: (ok: boolean) => void;
}

const ENTRY_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d+)\.cbor$/;

/**
 * A bounded write-ahead spool of telemetry batches that could not be published: one fsynced CBOR file per
 * batch holding `{subject, data}`, named by its message id, so it drains oldest first and is republished
 * under the same id (JetStream drops the copy if the first attempt did land). When a new batch would
 * exceed `maxBytes`, the oldest batches are dropped and reported. Batches that arrive while the disk is busy
 * are committed together (see {@link write}), so a slow fsync delays them instead of piling them up.
 *
 * @example
 * const spool = await Spool.open(join(config.base.state_dir, "spool", "telemetry"), 64 * 2 ** 20, onDrop);
 * await spool.write(batch);
 * const entry = spool.claimOldest();
 * if (entry) await spool.remove(entry); // after its publish was acknowledged
 */
export class Spool {
  /** Entries on disk and not being published, oldest first. */
  #entries: SpoolEntry[];
  #claimed = new Set<SpoolEntry>();
  /**
   * Claimed entries given up to make room for newer batches: their bytes no longer count, and they are dropped
   * if their publish fails (delivered, and not counted as dropped, if it succeeds). Their files stay until then,
   * so the directory may exceed the bound by what is in flight, which the publish window bounds.
   */
  #doomed = new Set<SpoolEntry>();
  /** Bytes on disk (claimed or not, doomed excepted), plus those of the group being written. */
  #bytes: number;
  /** Batches waiting for the group being written to finish. */
  #queue: QueuedWrite[] = [];
  /** Whether the one writer runs: groups go one at a time, so eviction decisions see a consistent index. */
  #writing = false;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    readonly onDrop: DropHandler,
    entries: SpoolEntry[],
  ) {
    this.#entries = entries;
    this.#bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  }

  /** Opens (creating) the spool directory and indexes what a previous run left; half-written files are removed. */
  static async open(dir: string, maxBytes: number, onDrop: DropHandler): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.endsWith(".tmp")) await unlink(join(dir, name));
    }
    return new Spool(dir, maxBytes, onDrop, await spoolEntries(dir));
  }

  get #full(): string {
    return `spool ${this.dir} is full (${this.maxBytes} bytes)`;
  }

  get batches(): number {
    return this.#entries.length + this.#claimed.size;
  }

  /** Batches on disk that no publish has claimed: what a drain would send next. */
  get unclaimed(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Persists a batch (fsynced) before resolving with true. Never rejects: a batch that could not be written
   * resolves false, and is reported through `onDrop`. Batches written while an earlier group is on its way to
   * the disk queue up and go as the next group: written and fsynced at once, then one fsync of the directory,
   * so the spool keeps up with its callers even when each fsync waits long (a busy disk), without holding more
   * than they hand it.
   */
  write(batch: SealedBatch): Promise<boolean> {
    const body = cbor.encode({ subject: batch.subject, data: batch.data });
    const entry = {
      name: `${batch.msgID}.${batch.records}.cbor`,
      records: batch.records,
      bytes: body.length,
    };
    return new Promise((written) => {
      this.#queue.push({ entry, body, written });
      if (!this.#writing) void this.#writeQueued();
    });
  }

  async #writeQueued(): Promise<void> {
    this.#writing = true;
    // The flag drops in the same step as the last check of the queue: a write queued after it starts a writer.
    while (this.#queue.length > 0) await this.#writeGroup(this.#queue.splice(0));
    this.#writing = false;
  }

  /** Writes one group (see {@link write}); never rejects: what fails is reported and resolves false. */
  async #writeGroup(queued: QueuedWrite[]): Promise<void> {
    const { group, evicted } = this.#makeRoom(queued.sort((a, b) => byName(a.entry, b.entry)));
    await Promise.all(evicted.map((name) => unlink(join(this.dir, name)).catch(() => undefined)));
    if (group.length === 0) return;
    const failures = await writeAllDurably(
      this.dir,
      group.map(({ entry, body }) => ({ name: entry.name, body })),
    );
    group.forEach(({ entry, written }, i) => {
      const failure = failures[i];
      if (failure) {
        this.#bytes -= entry.bytes;
        this.onDrop(
          entry.records,
          "spool_write_failed",
          `cannot write ${join(this.dir, entry.name)}: ${failure}`,
        );
      } else this.#entries.push(entry);
      written(!failure);
    });
    this.#entries.sort(byName);
  }

  /**
   * Reserves room for a group (sorted by name, so by age), oldest first: each batch makes room by giving up the
   * oldest batches older than itself: on disk, being republished (see {@link #oldestClaimed}), or earlier in the
   * group. One bigger than the whole spool, or older than every batch it would push out, is dropped itself. (A
   * batch whose publish failed after its ack timeout reaches the spool after newer ones did; it must not push
   * them out.) Returns the batches to write, their bytes counted, and the files of those dropped from disk.
   */
  #makeRoom(queued: QueuedWrite[]): { group: QueuedWrite[]; evicted: string[] } {
    const group: QueuedWrite[] = [];
    const evicted: string[] = [];
    const full = this.#full;
    for (const item of queued) {
      if (item.entry.bytes > this.maxBytes) {
        this.onDrop(item.entry.records, "spool_full", full);
        item.written(false);
        continue;
      }
      while (this.#bytes + item.entry.bytes > this.maxBytes) {
        const onDisk = this.#entries[0] ?? group[0]?.entry;
        const claimed = this.#oldestClaimed();
        const oldest = claimed && (!onDisk || byName(claimed, onDisk) < 0) ? claimed : onDisk;
        if (!oldest || byName(item.entry, oldest) < 0) break;
        this.#bytes -= oldest.bytes;
        if (oldest === claimed) {
          // Its publish decides: dropped if it fails (see unclaim), delivered if it lands.
          this.#doomed.add(claimed);
          continue;
        }
        if (oldest === this.#entries[0]) evicted.push(this.#entries.shift()?.name ?? "");
        else group.shift()?.written(false);
        this.onDrop(oldest.records, "spool_full", `${full}: oldest batch dropped`);
      }
      if (this.#bytes + item.entry.bytes > this.maxBytes) {
        // It is older than everything left to push out: it cannot fit.
        this.onDrop(item.entry.records, "spool_full", full);
        item.written(false);
        continue;
      }
      this.#bytes += item.entry.bytes;
      group.push(item);
    }
    return { group, evicted };
  }

  /**
   * The oldest claimed entry not yet given up. One being republished while the spool is full (during an outage
   * its publish only times out) makes room for newer batches like any other old batch; its file stays until
   * its publish settles.
   */
  #oldestClaimed(): SpoolEntry | undefined {
    let oldest: SpoolEntry | undefined;
    for (const claimed of this.#claimed) {
      if (!this.#doomed.has(claimed) && (!oldest || byName(claimed, oldest) < 0)) oldest = claimed;
    }
    return oldest;
  }

  /** Takes the oldest entry for publishing; it stays on disk until {@link remove} or {@link unclaim}. */
  claimOldest(): SpoolEntry | undefined {
    const entry = this.#entries.shift();
    if (entry) this.#claimed.add(entry);
    return entry;
  }

  /**
   * Gives a claimed entry back (its publish failed); it keeps its place by age, unless newer batches needed
   * its room meanwhile: then it is dropped and reported.
   */
  unclaim(entry: SpoolEntry): void {
    if (!this.#claimed.delete(entry)) return;
    if (this.#doomed.delete(entry)) {
      void unlink(join(this.dir, entry.name)).catch(() => undefined);
      this.onDrop(entry.records, "spool_full", `${this.#full}: oldest batch dropped`);
      return;
    }
    this.#entries.push(entry);
    this.#entries.sort(byName);
  }

  async read(entry: SpoolEntry): Promise<SealedBatch> {
    const envelope: unknown = cbor.decode(await readFile(join(this.dir, entry.name)));
    const { subject, data } = (envelope ?? {}) as { subject?: unknown; data?: unknown };
    if (typeof subject !== "string" || !(data instanceof Uint8Array)) {
      throw new Error(`${join(this.dir, entry.name)} is not a spooled batch ({subject, data})`);
    }
    return { msgID: entry.name.slice(0, 36), subject, data, records: entry.records };
  }

  /** Deletes a claimed entry, after its batch was acknowledged. */
  async remove(entry: SpoolEntry): Promise<void> {
    this.#claimed.delete(entry);
    if (!this.#doomed.delete(entry)) this.#bytes -= entry.bytes;
    await unlink(join(this.dir, entry.name)).catch(() => undefined);
  }

  /** Deletes a claimed entry that can never be published, and reports its records as dropped. */
  async discard(entry: SpoolEntry, reason: DropReason, detail: string): Promise<void> {
    await this.remove(entry);
    this.onDrop(entry.records, reason, detail);
  }
}

/**
 * The batches a spool directory holds, oldest first, from file names and sizes alone (no file is read); none
 * when the directory does not exist. `fluxrig status` reads a spool this way, running agent or not.
 *
 * @example const entries = await spoolEntries(join(stateDir, "spool", "telemetry"));
 */
export async function spoolEntries(dir: string): Promise<SpoolEntry[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const entries: SpoolEntry[] = [];
  for (const name of names) {
    const match = ENTRY_NAME.exec(name);
    if (!match) continue;
    // A batch sent and removed since the listing is simply not counted.
    const size = await stat(join(dir, name)).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== undefined) entries.push({ name, records: Number(match[2]), bytes: size });
  }
  return entries.sort(byName);
}

function byName(a: SpoolEntry, b: SpoolEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
