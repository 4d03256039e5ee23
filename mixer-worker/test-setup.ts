import { applyD1Migrations, env } from "cloudflare:test";

// The registry schema, as `wrangler d1 migrations apply` lays it in production and under `npm run dev`.
const bindings = env as unknown as {
  REGISTRY: D1Database;
  TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1];
};
await applyD1Migrations(bindings.REGISTRY, bindings.TEST_MIGRATIONS);
