import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it, onTestFinished } from "vitest";
import { RecordBatch, type SealedBatch } from "./record-batch.ts";
import { Spool } from "./spool.ts";
import type { DropReason } from "./stats.ts";

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "fluxrig-spool-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "spool", "telemetry");
}

function sealed(records: number, size = 100): SealedBatch {
  const batch = new RecordBatch("logs");
  for (let i = 0; i < records; i++) batch.add(new Uint8Array(size).fill(0x61 + (i % 20)));
  return batch.seal("flux.telemetry.logs.rack-1");
}

function dropLog() {
  const drops: { records: number; reason: DropReason }[] = [];
  return { drops, onDrop: (records: number, reason: DropReason) => drops.push({ records, reason }) };
}

it("persists batches and gives them back oldest first, also after a restart", async () => {
  const dir = await tempDir();
  const { drops, onDrop } = dropLog();
  const batches = [sealed(3), sealed(1), sealed(2)];
  const spool = await Spool.open(dir, 1 << 20, onDrop);
  for (const batch of [batches[2], batches[0], batches[1]]) await spool.write(batch as SealedBatch);
  // A crash mid-write leaves a temp file; the next open removes it.
  await writeFile(join(dir, `${sealed(1).msgID}.1.cbor.tmp`), "half");

  const reopened = await Spool.open(dir, 1 << 20, onDrop);
  expect(reopened.batches).toBe(3);
  expect(reopened.bytes).toBe(spool.bytes);
  for (const expected of batches) {
    const entry = reopened.claimOldest();
    expect(entry).toBeDefined();
    if (!entry) return;
    expect(await reopened.read(entry)).toEqual({ ...expected, data: expect.any(Uint8Array) });
    expect(Buffer.from((await reopened.read(entry)).data)).toEqual(Buffer.from(expected.data));
    await reopened.remove(entry);
  }
  expect(reopened.batches).toBe(0);
  expect(await readdir(dir)).toEqual([]);
  expect(drops).toEqual([]);
});

it("drops the oldest batches past its bound and reports them", async () => {
  const dir = await tempDir();
  const { drops, onDrop } = dropLog();
  const spool = await Spool.open(dir, 2_500, onDrop);
  const batches = [sealed(4, 250), sealed(5, 250), sealed(2, 250)];
  for (const batch of batches) await spool.write(batch);

  expect(drops).toEqual([{ records: 4, reason: "spool_full" }]);
  expect(spool.bytes).toBeLessThanOrEqual(2_500);
  expect(spool.claimOldest()?.name).toBe(`${batches[1]?.msgID}.5.cbor`);

  await spool.write(sealed(20, 250)); // bigger than the whole spool
  expect(drops.at(-1)).toEqual({ records: 20, reason: "spool_full" });
});

it("keeps a claimed batch when its publish failed, in its place by age", async () => {
  const dir = await tempDir();
  const spool = await Spool.open(dir, 1 << 20, dropLog().onDrop);
  const [older, newer] = [sealed(1), sealed(1)];
  await spool.write(newer);
  await spool.write(older);

  const entry = spool.claimOldest();
  expect(entry?.name.startsWith(older.msgID)).toBe(true);
  if (entry) spool.unclaim(entry);
  expect(spool.claimOldest()?.name.startsWith(older.msgID)).toBe(true);
  expect(spool.batches).toBe(2);
});

it("writes batches handed over together as one group, still dropping the oldest first past its bound", async () => {
  const dir = await tempDir();
  const { drops, onDrop } = dropLog();
  const spool = await Spool.open(dir, 2_500, onDrop);
  // About 1,030, 1,280, 530 and 780 bytes: the first two fit, each later one pushes the oldest out.
  const batches = [sealed(4, 250), sealed(5, 250), sealed(2, 250), sealed(3, 250)];

  const written = await Promise.all(batches.map((batch) => spool.write(batch)));

  // The first went to disk alone (nothing was being written) and was pushed out later; the other three waited
  // for it and went as one group, in which the oldest made room for the newer ones before reaching the disk.
  expect(written).toEqual([true, false, true, true]);
  expect(drops).toEqual([
    { records: 4, reason: "spool_full" },
    { records: 5, reason: "spool_full" },
  ]);
  expect((await readdir(dir)).sort()).toEqual(
    [batches[2], batches[3]].map((b) => `${b?.msgID}.${b?.records}.cbor`).sort(),
  );
  expect(spool.batches).toBe(2);
  expect(spool.bytes).toBeLessThanOrEqual(2_500);
});

it("drops a late batch older than every batch it would push out, not the newer ones", async () => {
  // A batch whose publish failed after its ack timeout reaches the spool after newer ones were spooled.
  const dir = await tempDir();
  const { drops, onDrop } = dropLog();
  const spool = await Spool.open(dir, 2_500, onDrop);
  // About 530 bytes late, then 1,030, 1,280 and 780 newer: the first two newer fill the spool.
  const late = sealed(2, 250);
  const newer = [sealed(4, 250), sealed(5, 250), sealed(3, 250)];
  for (const batch of newer.slice(0, 2)) expect(await spool.write(batch)).toBe(true);

  expect(await spool.write(late)).toBe(false);
  expect(drops).toEqual([{ records: 2, reason: "spool_full" }]);
  // Past the bound again, the oldest on disk goes first, as always.
  expect(await spool.write(newer[2] as SealedBatch)).toBe(true);
  expect(drops.at(-1)).toEqual({ records: 4, reason: "spool_full" });
  expect((await readdir(dir)).sort()).toEqual(
    newer
      .slice(1)
      .map((b) => `${b.msgID}.${b.records}.cbor`)
      .sort(),
  );
});

it("gives up a batch being republished, not a newer one, when newer batches need its room", async () => {
  // During an outage the drain claims the oldest batch and its publish times out; batches spooled meanwhile
  // must not be dropped in its place. The claimed one is dropped only if its publish then fails.
  const dir = await tempDir();
  const { drops, onDrop } = dropLog();
  const spool = await Spool.open(dir, 2_500, onDrop);
  // About 1,030 and 1,280 bytes: they fill the spool and are both being republished; then 780 and 530 more.
  const [first, second, third, fourth] = [sealed(4, 250), sealed(5, 250), sealed(3, 250), sealed(2, 250)];
  for (const batch of [first, second]) await spool.write(batch);
  const inFlight = spool.claimOldest();
  const alsoInFlight = spool.claimOldest();
  if (!inFlight || !alsoInFlight) throw new Error("nothing to claim");

  expect(await spool.write(third)).toBe(true);
  expect(drops).toEqual([]); // undecided while its publish runs
  expect(spool.bytes).toBeLessThanOrEqual(2_500);
  spool.unclaim(inFlight); // its publish failed: now it is dropped
  expect(drops).toEqual([{ records: 4, reason: "spool_full" }]);

  expect(await spool.write(fourth)).toBe(true);
  await spool.remove(alsoInFlight); // acknowledged after all: delivered, so not counted as dropped
  expect(drops).toEqual([{ records: 4, reason: "spool_full" }]);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the dropped file's unlink
  expect((await readdir(dir)).sort()).toEqual(
    [third, fourth].map((b) => `${b.msgID}.${b.records}.cbor`).sort(),
  );
  // What it counts is what is on disk, as a restart would count it.
  expect((await Spool.open(dir, 2_500, onDrop)).bytes).toBe(spool.bytes);
  expect(spool.batches).toBe(2);
  expect(spool.claimOldest()?.name.startsWith(third.msgID)).toBe(true);
});
