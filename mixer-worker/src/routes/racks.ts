import { type Context, Hono } from "hono";
import { z } from "zod";
import { ENROLLMENT_ONLY_SECRETS } from "../../../shared/control/enrollment.ts";
import { RACK_ACTIONS, type RackAction } from "../../../shared/control/rack-actions.ts";
import { RACK_STATUSES, SECRET_NAME } from "../../../shared/passport/index.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError } from "../http/problem.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import type { RackRow } from "../registry/rack-row.ts";
import { deleteRackSecret, setRackSecret } from "../registry/rack-secrets.ts";
import { rackView } from "../registry/rack-view.ts";
import { findRack, listRacks, updateStatus } from "../registry/racks.ts";
import { transition } from "../registry/status-transitions.ts";
import { assignLatestScenario } from "../scenarios/activate.ts";

type RacksContext = Context<MixerBindings>;

function badRequest(parameter: string, detail: string): ProblemError {
  return new ProblemError({ title: "Bad Request", status: 400, parameter, detail });
}

/** The rack named by the `id` path parameter; 400 when it is not a UUID, 404 when there is none. */
async function pathRack(c: RacksContext): Promise<RackRow> {
  const id = c.req.param("id") ?? "";
  if (!z.uuid().safeParse(id).success) throw badRequest("id", `id must be a rack id (a UUID), got "${id}"`);
  const rack = await findRack(c.env.REGISTRY, "id", id);
  if (!rack)
    throw new ProblemError({ title: "Not Found", status: 404, parameter: "id", detail: `no rack ${id}` });
  return rack;
}

/** Re-signs a rack's passport after a change and has the Snake bridge deliver it, after `delayMs`. */
async function reissue(c: RacksContext, id: string, delayMs: number): Promise<Response> {
  await issueRackPassport(c.env, id);
  await snakeBridge(c.env).deliverPassport(id, delayMs);
  return c.json(rackView((await findRack(c.env.REGISTRY, "id", id)) as RackRow, Date.now()));
}

const secretBody = z.object({ value: z.string().min(1).max(65_536) });

/**
 * The registry over HTTP: `GET /api/v1/racks[?status=]`, `GET /api/v1/racks/{id}`,
 * `POST /api/v1/racks/{id}/approve|suspend|revoke`, and `PUT|DELETE /api/v1/racks/{id}/secrets/{name}`
 * (a value sealed at once to the rack's key; the mixer keeps only ciphertext). Every change re-signs the
 * rack's passport and delivers it over NATS, after `enrollment.push_delay` for a newly adopted rack.
 */
export const racks = new Hono<MixerBindings>()
  .get("/", async (c) => {
    const status = c.req.query("status");
    if (status !== undefined && !(RACK_STATUSES as readonly string[]).includes(status)) {
      throw badRequest("status", `status must be one of ${RACK_STATUSES.join(", ")}, got "${status}"`);
    }
    const rows = await listRacks(c.env.REGISTRY, status as (typeof RACK_STATUSES)[number] | undefined);
    const now = Date.now();
    return c.json({ racks: rows.map((row) => rackView(row, now)) });
  })
  .get("/:id", async (c) => c.json(rackView(await pathRack(c), Date.now())))
  .post("/:id/:action", async (c) => {
    const action = c.req.param("action");
    if (!Object.hasOwn(RACK_ACTIONS, action)) {
      throw badRequest(
        "action",
        `action must be one of ${Object.keys(RACK_ACTIONS).join(", ")}, got "${action}"`,
      );
    }
    const rack = await pathRack(c);
    const step = transition(action as RackAction, rack.status);
    if ("same" in step) return c.json(rackView(rack, Date.now()));
    if ("impossible" in step) {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        parameter: "action",
        detail: `rack ${rack.name} (${rack.id}) is ${rack.status}: it cannot be moved to ${RACK_ACTIONS[action as RackAction]}`,
      });
    }
    if (!(await updateStatus(c.env.REGISTRY, rack.id, rack.status, step.to, Date.now()))) {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        detail: `rack ${rack.name} (${rack.id}) changed status meanwhile; look again and retry`,
      });
    }
    const adopted = rack.status === "pending" && step.to === "active";
    const delayMs = adopted ? mixerConfig(c.env).config.enrollment.push_delay : 0;
    const response = await reissue(c, rack.id, delayMs);
    // A newly active rack gets the scenario part meant for it (its own, or the last activation targeting it).
    if (step.to === "active") {
      const fresh = (await findRack(c.env.REGISTRY, "id", rack.id)) as RackRow;
      if (fresh.scenario_part) await snakeBridge(c.env).deliverScenario(rack.id, delayMs);
      else await assignLatestScenario(c.env, fresh, delayMs);
    }
    return response;
  })
  .put("/:id/secrets/:name", async (c) => {
    const rack = await pathRack(c);
    const name = c.req.param("name");
    if (!SECRET_NAME.test(name)) {
      throw badRequest("name", `name must be 1 to 128 letters, digits, "_", "." or "-", got "${name}"`);
    }
    if (ENROLLMENT_ONLY_SECRETS.has(name)) {
      throw badRequest(
        "name",
        `${name} only admits a rack at enrollment: it is never sealed into a passport`,
      );
    }
    const body = secretBody.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success)
      throw badRequest("value", 'the body must be JSON {"value": "<1 to 65536 characters>"}');
    await setRackSecret(c.env.REGISTRY, rack, name, body.data.value);
    return reissue(c, rack.id, 0);
  })
  .delete("/:id/secrets/:name", async (c) => {
    const rack = await pathRack(c);
    await deleteRackSecret(c.env.REGISTRY, rack, c.req.param("name"));
    return reissue(c, rack.id, 0);
  });
