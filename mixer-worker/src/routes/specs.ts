import { Hono } from "hono";
import * as z from "zod";
import { specHash, specId, validateSpec } from "../../../shared/spec/index.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { parseQuery } from "../http/query-params.ts";
import { invalidYaml, yamlBody } from "../http/yaml-body.ts";
import { findSpec, insertSpec, listSpecs, specOf } from "../registry/specs.ts";

/** A spec file bigger than this is refused (413): a layout, not data. */
export const MAX_SPEC_BYTES = 256 * 1024;

const iso = (ms: number) => new Date(ms).toISOString();
const showQuery = z.object({
  version: z.string().min(1).max(128).describe("a version of the spec, as its spec.version").optional(),
});

/**
 * fluxSpecs over HTTP: `POST /api/v1/specs` imports a YAML file (validated with every problem at its line;
 * stored by id, version and content hash; versions are immutable), `GET /api/v1/specs` lists every version,
 * `GET /api/v1/specs/{id}[?version=]` shows one (default: the last imported) with its normal form and file.
 */
export const specs = new Hono<MixerBindings>()
  .post("/", async (c) => {
    const { text, file } = await yamlBody(c, MAX_SPEC_BYTES, "a spec file", "spec.yaml");
    const result = validateSpec(text, { file });
    if (!result.ok) throw invalidYaml("Invalid spec", result.problems);
    const { spec } = result;
    const hash = await specHash(spec);
    const outcome = await insertSpec(c.env.REGISTRY, spec, hash, text, Date.now());
    if (outcome === "conflict") {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        parameter: "body",
        detail: `spec ${spec.spec.id} version ${spec.spec.version} exists with other content: raise spec.version`,
      });
    }
    const { id, version } = spec.spec;
    return c.json(
      { id, version, hash, outcome, fields: spec.fields.length, format: spec.format.kind },
      outcome === "created" ? 201 : 200,
    );
  })
  .get("/", async (c) => {
    parseQuery(c, z.object({}));
    const rows = await listSpecs(c.env.REGISTRY);
    return c.json({ specs: rows.map((row) => ({ ...row, imported_at: iso(row.imported_at) })) });
  })
  .get("/:id", async (c) => {
    const { version } = parseQuery(c, showQuery);
    const id = c.req.param("id");
    if (!specId.safeParse(id).success) {
      throw new ProblemError({
        title: "Bad Request",
        status: 400,
        parameter: "id",
        detail: `id must be 1 to 128 letters, digits, "_" or "-", got "${id.slice(0, 200)}"`,
      });
    }
    const row = await findSpec(c.env.REGISTRY, id, version);
    if (!row) {
      throw new ProblemError({
        title: "Not Found",
        status: 404,
        parameter: version === undefined ? "id" : "version",
        detail: version === undefined ? `no spec ${id}` : `no version ${version} of spec ${id}`,
      });
    }
    const versions = await listSpecs(c.env.REGISTRY, row.id);
    return c.json({
      id: row.id,
      version: row.version,
      hash: row.hash,
      description: row.description,
      imported_at: iso(row.imported_at),
      versions: versions.map((v) => ({ version: v.version, hash: v.hash, imported_at: iso(v.imported_at) })),
      spec: specOf(row),
      yaml: row.yaml,
    });
  });
