import { Hono } from "hono";
import * as z from "zod";
import { CURSOR_ALLOWED } from "../../../shared/telemetry/query-params.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { badParameter, parseQuery, pathParam } from "../http/query-params.ts";
import { openToken, sealToken } from "../http/signed-token.ts";
import { listStoredFiles } from "../store/index.ts";

const MAX_LIST = 1_000;
/** R2 refuses longer object names; the pattern is ASCII, so characters are bytes. */
const MAX_KEY_BYTES = 1_024;

/** A key or prefix inside the telemetry tree: never `..`, never a control character, never over R2's limit. */
const objectKey = z
  .string()
  .max(MAX_KEY_BYTES)
  .regex(/^(telemetry|messages)\/[A-Za-z0-9_.\-/]*$/)
  .refine((key) => !key.includes(".."));
const KEY_ALLOWED = `a path under telemetry/ or messages/ of at most ${MAX_KEY_BYTES} characters (letters, digits, _ . - /, no ..)`;

const filesQuerySchema = z.strictObject({
  prefix: objectKey.optional().describe(KEY_ALLOWED),
  cursor: z.string().max(2_048).optional().describe(CURSOR_ALLOWED),
});

/** The R2 listing cursor inside a `next` token, which is bound to its prefix. */
const listPosition = z.object({ c: z.string() });
const listScope = (prefix: string) => JSON.stringify(["files", prefix]);

/**
 * The stored telemetry objects as files: list them by prefix, download one to open in DuckDB or pandas.
 * `GET /api/v1/telemetry/files?prefix=telemetry/logs/2026/` and `GET /api/v1/telemetry/files/<key>`. The list
 * shows the objects queries read (after compaction, the compacted objects and not what they replaced); a
 * page can hold fewer than its limit then, and `next` goes on.
 */
export const telemetryFiles = new Hono<MixerBindings>()
  .get("/", async (c) => {
    const query = parseQuery(c, filesQuerySchema);
    const prefix = query.prefix ?? "telemetry/";
    // R2's own cursor goes out signed: a made-up one would reach R2 and fail there.
    const position =
      query.cursor === undefined
        ? undefined
        : await openToken(c.env, listScope(prefix), query.cursor, listPosition);
    if (query.cursor !== undefined && !position) {
      throw badParameter({ parameter: "cursor", value: query.cursor, allowed: CURSOR_ALLOWED });
    }
    const page = await listStoredFiles(c.env.TELEMETRY, prefix, position?.c, MAX_LIST);
    return c.json({
      files: page.files.map((o) => ({ key: o.key, size: o.size, uploaded: o.uploaded.toISOString() })),
      next: page.cursor === undefined ? null : await sealToken(c.env, listScope(prefix), { c: page.cursor }),
    });
  })
  // [\s\S], not ".": a key with an encoded line break must reach the check (400), not miss the route.
  .get("/:key{[\\s\\S]+}", async (c) => {
    // Hono has decoded the path parameter already; decoding again would turn %25 into a new escape.
    const key = pathParam(c, "key", objectKey.describe(KEY_ALLOWED));
    const object = await c.env.TELEMETRY.get(key);
    if (!object) {
      throw new ProblemError({
        title: "Not Found",
        status: 404,
        parameter: "key",
        detail: `no stored object ${key}`,
      });
    }
    return c.body(object.body, 200, {
      "content-type": key.endsWith(".parquet") ? "application/vnd.apache.parquet" : "application/x-ndjson",
      "content-length": String(object.size),
    });
  });
