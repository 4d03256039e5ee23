import { type Context, Hono } from "hono";
import * as z from "zod";
import { scenarioHash, validateScenario } from "../../../shared/scenario/index.ts";
import { scenarioName } from "../../../shared/scenario/model.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { parseQuery } from "../http/query-params.ts";
import { invalidYaml, yamlBody } from "../http/yaml-body.ts";
import { findRack } from "../registry/racks.ts";
import {
  findScenario,
  insertScenario,
  latestActivations,
  listScenarios,
  scenarioOf,
} from "../registry/scenarios.ts";
import { heldSpecVersions } from "../registry/specs.ts";
import { type ActivationTarget, activateScenario } from "../scenarios/activate.ts";
import { convergence } from "../scenarios/convergence.ts";

/** A scenario file bigger than this is refused (413): scenarios are wiring, not data. */
export const MAX_SCENARIO_BYTES = 256 * 1024;

type ScenariosContext = Context<MixerBindings>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The scenario named by the `name` path parameter (at `version`, else the last imported); 400, 404. */
async function pathScenario(c: ScenariosContext, version?: string) {
  const name = c.req.param("name") ?? "";
  if (!scenarioName.safeParse(name).success || name.length > 128) {
    throw new ProblemError({
      title: "Bad Request",
      status: 400,
      parameter: "name",
      detail: `name must be 1 to 128 letters, digits, "_" or "-", got "${name.slice(0, 200)}"`,
    });
  }
  const row = await findScenario(c.env.REGISTRY, name, version);
  if (!row) {
    throw new ProblemError({
      title: "Not Found",
      status: 404,
      parameter: version === undefined ? "name" : "version",
      detail: version === undefined ? `no scenario ${name}` : `no version ${version} of scenario ${name}`,
    });
  }
  return row;
}

const versionParam = z.string().min(1).max(128).describe("a version of the scenario, as its meta.version");
const showQuery = z.object({ version: versionParam.optional() });
const activateQuery = z.object({
  version: versionParam.optional(),
  wait: z.enum(["true", "false"]).default("true").describe("true or false"),
});

/**
 * Scenarios over HTTP: `POST /api/v1/scenarios` imports a YAML file (validated with every problem at its
 * line; stored by name, version and content hash), `GET /api/v1/scenarios[/{name}]` lists or shows them,
 * `POST /api/v1/scenarios/{name}/activate[?version=&wait=]` gives each target rack its signed part and waits
 * up to `mixer.scenario_wait_timeout` for them to run it, and `GET /api/v1/scenarios/{name}/status` says
 * where each target rack stands with the last activation.
 */
export const scenarios = new Hono<MixerBindings>()
  .post("/", async (c) => {
    const { text, file } = await yamlBody(c, MAX_SCENARIO_BYTES, "a scenario file", "scenario.yaml");
    const result = validateScenario(text, { file, specs: await heldSpecVersions(c.env.REGISTRY) });
    if (!result.ok) throw invalidYaml("Invalid scenario", result.problems);
    const { scenario } = result;
    const hash = await scenarioHash(scenario);
    const outcome = await insertScenario(c.env.REGISTRY, scenario, hash, text, Date.now());
    if (outcome === "conflict") {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        parameter: "body",
        detail: `scenario ${scenario.meta.name} version ${scenario.meta.version} exists with other content: raise meta.version`,
      });
    }
    return c.json(
      {
        name: scenario.meta.name,
        version: scenario.meta.version,
        hash,
        outcome,
        racks: Object.keys(scenario.racks).length,
        gears: scenario.gears.length,
        wires: scenario.wires.length,
      },
      outcome === "created" ? 201 : 200,
    );
  })
  .get("/", async (c) => {
    parseQuery(c, z.object({}));
    const rows = await listScenarios(c.env.REGISTRY);
    return c.json({ scenarios: rows.map((row) => ({ ...row, imported_at: iso(row.imported_at) })) });
  })
  .get("/:name", async (c) => {
    const { version } = parseQuery(c, showQuery);
    const row = await pathScenario(c, version);
    const versions = await listScenarios(c.env.REGISTRY, row.name);
    return c.json({
      name: row.name,
      version: row.version,
      hash: row.hash,
      description: row.description,
      imported_at: iso(row.imported_at),
      versions: versions.map((v) => ({ version: v.version, hash: v.hash, imported_at: iso(v.imported_at) })),
      scenario: scenarioOf(row),
      yaml: row.yaml,
    });
  })
  .post("/:name/activate", async (c) => {
    const { version, wait } = parseQuery(c, activateQuery);
    const row = await pathScenario(c, version);
    return c.json(await activateScenario(c.env, row, wait === "false" ? { waitMs: 0 } : {}));
  })
  .get("/:name/status", async (c) => {
    parseQuery(c, z.object({}));
    const row = await pathScenario(c);
    const [activation] = await latestActivations(c.env.REGISTRY, row.name);
    if (!activation) {
      throw new ProblemError({
        title: "Not Found",
        status: 404,
        parameter: "name",
        detail: `scenario ${row.name} was never activated`,
      });
    }
    const targets = JSON.parse(activation.targets) as ActivationTarget[];
    const rows = await Promise.all(
      targets.map((t) => (t.id ? findRack(c.env.REGISTRY, "id", t.id) : Promise.resolve(null))),
    );
    return c.json({
      activated_at: iso(activation.activated_at),
      ...convergence({ ...activation, targets }, rows, Date.now()),
    });
  });
