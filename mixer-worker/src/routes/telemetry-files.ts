import { Hono } from "hono";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";

const MAX_LIST = 1_000;
const KEY = /^(telemetry|messages)\/[A-Za-z0-9_.\-/]*$/;

function checkKey(key: string, parameter: string): void {
  if (!KEY.test(key) || key.includes("..")) {
    throw new ProblemError({
      title: "Bad Request",
      status: 400,
      parameter,
      detail: `${parameter} must be a path under telemetry/ or messages/ (letters, digits, _ . - /), got "${key}"`,
    });
  }
}

/**
 * The stored telemetry objects as files: list them by prefix, download one to open in DuckDB or pandas.
 * `GET /api/v1/telemetry/files?prefix=telemetry/logs/2026/` and `GET /api/v1/telemetry/files/<key>`.
 */
export const telemetryFiles = new Hono<MixerBindings>()
  .get("/", async (c) => {
    const prefix = c.req.query("prefix") ?? "telemetry/";
    checkKey(prefix, "prefix");
    const cursor = c.req.query("cursor");
    const page = await c.env.TELEMETRY.list({ prefix, limit: MAX_LIST, ...(cursor ? { cursor } : {}) });
    return c.json({
      files: page.objects.map((o) => ({ key: o.key, size: o.size, uploaded: o.uploaded.toISOString() })),
      next: page.truncated ? page.cursor : null,
    });
  })
  .get("/:key{.+}", async (c) => {
    // Hono has decoded the path parameter already; decoding again would turn %25 into a new escape.
    const key = c.req.param("key");
    checkKey(key, "key");
    const object = await c.env.TELEMETRY.get(key);
    if (!object)
      throw new ProblemError({ title: "Not Found", status: 404, detail: `no stored object ${key}` });
    return c.body(object.body, 200, {
      "content-type": key.endsWith(".parquet") ? "application/vnd.apache.parquet" : "application/x-ndjson",
      "content-length": String(object.size),
    });
  });
