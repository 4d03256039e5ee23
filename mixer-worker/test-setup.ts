import { applyD1Migrations, env, listDurableObjectIds, reset, runInDurableObject } from "cloudflare:test";
import type { MixerEnv } from "./src/env.ts";
import { sendSelfTelemetry } from "./src/self/api-usage.ts";

// Every test file of the workers project runs in one workerd (vitest.config.ts: isolate off, one worker), so
// DuckDB's 18 MB engine loads once per run instead of once per file. Each file still starts on empty storage,
// as it did in a workerd of its own: this runs before each file, empties D1, R2 and the Durable Objects (the
// bridge and the compactor), checks that they are empty, then lays the registry schema, as `wrangler d1 migrations apply` lays it
// in production and under `npm run dev`. The Worker's modules stay loaded from file to file; the one whose
// state a file could see is the isolate's API counters, emptied here too.
const bindings = env as unknown as {
  REGISTRY: D1Database;
  TELEMETRY: R2Bucket;
  SNAKE_BRIDGE: DurableObjectNamespace;
  STORE_COMPACTOR: DurableObjectNamespace;
  TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1];
};
const namespaces = { "snake bridge": bindings.SNAKE_BRIDGE, compactor: bindings.STORE_COMPACTOR };
const durableObjects = async () =>
  (
    await Promise.all(
      Object.entries(namespaces).map(async ([name, namespace]) =>
        (await listDurableObjectIds(namespace)).map((id) => ({ name, stub: namespace.get(id) })),
      ),
    )
  ).flat();

// reset() deletes only the objects running at the time (D1 and R2 are objects too): one left idle by the
// previous file kept its storage, so each is woken first.
await bindings.REGISTRY.prepare("SELECT 1").run();
await bindings.TELEMETRY.list({ limit: 1 });
for (const { stub } of await durableObjects()) await runInDurableObject(stub, () => {});
await reset();

const left = [
  ...(await bindings.TELEMETRY.list({ limit: 1 })).objects.map((object) => `R2 object ${object.key}`),
  ...(
    await bindings.REGISTRY.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
    ).all<{ name: string }>()
  ).results.map((table) => `D1 table ${table.name}`),
];
for (const { name, stub } of await durableObjects()) {
  await runInDurableObject(stub, async (_, state) => {
    const keys = [...(await state.storage.list({ limit: 1 })).keys()];
    if (keys.length || (await state.storage.getAlarm()) !== null)
      left.push(`${name} ${state.id} storage (${keys.join(", ") || "an alarm"})`);
  });
}
if (left.length) throw new Error(`storage left over from an earlier test file: ${left.join(", ")}`);
await applyD1Migrations(bindings.REGISTRY, bindings.TEST_MIGRATIONS);
// The project's mixer has its own telemetry off, so this drops what earlier files' requests counted.
sendSelfTelemetry(env as unknown as MixerEnv, () => {});
