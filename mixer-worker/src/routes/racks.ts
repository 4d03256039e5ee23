import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod";
import { ENROLLMENT_ONLY_SECRETS } from "../../../shared/control/enrollment.ts";
import { RACK_ACTIONS, type RackAction } from "../../../shared/control/rack-actions.ts";
import { RACK_STATUSES, SECRET_NAME } from "../../../shared/passport/index.ts";
import { snakeBridge } from "../bridge/bridge-stub.ts";
import { mixerConfig } from "../config.ts";
import type { MixerBindings } from "../env.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import { badParameter, parseQuery, pathParam } from "../http/query-params.ts";
import { issueRackPassport } from "../registry/rack-passport.ts";
import type { RackRow } from "../registry/rack-row.ts";
import { deleteRackSecret, setRackSecret } from "../registry/rack-secrets.ts";
import { rackView } from "../registry/rack-view.ts";
import { findRack, listRacks, updateStatus } from "../registry/racks.ts";
import { transition } from "../registry/status-transitions.ts";
import { assignLatestScenario } from "../scenarios/activate.ts";

type RacksContext = Context<MixerBindings>;

const rackId = z.uuid().describe("a rack id (a UUID)");
const rackAction = z
  .enum(Object.keys(RACK_ACTIONS) as [RackAction, ...RackAction[]])
  .describe(`one of ${Object.keys(RACK_ACTIONS).join(", ")}`);
const secretName = z.string().regex(SECRET_NAME).describe('1 to 128 letters, digits, "_", "." or "-"');
const listQuerySchema = z.strictObject({
  status: z
    .enum(RACK_STATUSES)
    .optional()
    .describe(`one of ${RACK_STATUSES.join(", ")}`),
});

/** The rack named by the `id` path parameter; 400 when it is not a UUID, 404 when there is none. */
async function pathRack(c: RacksContext): Promise<RackRow> {
  const id = pathParam(c, "id", rackId);
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
const SECRET_BODY_ALLOWED = 'JSON {"value": "<1 to 65536 characters>"}';
/** Room for the longest value with every character escaped (`\uXXXX`), read no further. */
const MAX_SECRET_BODY_BYTES = 512 * 1024;

/**
 * The registry over HTTP: `GET /api/v1/racks[?status=]`, `GET /api/v1/racks/{id}`,
 * `POST /api/v1/racks/{id}/approve|suspend|revoke`, and `PUT|DELETE /api/v1/racks/{id}/secrets/{name}`
 * (a value sealed at once to the rack's key; the mixer keeps only ciphertext). Every change re-signs the
 * rack's passport and delivers it over NATS, after `enrollment.push_delay` for a newly adopted rack.
 */
export const racks = new Hono<MixerBindings>()
  .get("/", async (c) => {
    const { status } = parseQuery(c, listQuerySchema);
    const rows = await listRacks(c.env.REGISTRY, status);
    const now = Date.now();
    return c.json({ racks: rows.map((row) => rackView(row, now)) });
  })
  .get("/:id", async (c) => c.json(rackView(await pathRack(c), Date.now())))
  .post("/:id/:action", async (c) => {
    const action = pathParam(c, "action", rackAction);
    const rack = await pathRack(c);
    const step = transition(action, rack.status);
    if ("same" in step) return c.json(rackView(rack, Date.now()));
    if ("impossible" in step) {
      throw new ProblemError({
        title: "Conflict",
        status: 409,
        parameter: "action",
        detail: `rack ${rack.name} (${rack.id}) is ${rack.status}: it cannot be moved to ${RACK_ACTIONS[action]}`,
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
    // A newly active rack gets the scenario part meant for it (its own, or the last activation targeting
    // it), assigned before its passport is signed, whose bus JWT allows that part's lanes.
    const part =
      step.to === "active" && (rack.scenario_part !== null || (await assignLatestScenario(c.env, rack)));
    const response = await reissue(c, rack.id, delayMs);
    // Revoked takes effect on the bus at once: nats-server closes the rack's connection and refuses its key.
    if (step.to === "revoked") await snakeBridge(c.env).revokeOnBus();
    if (part) await snakeBridge(c.env).deliverScenario(rack.id, delayMs);
    return response;
  })
  .put(
    "/:id/secrets/:name",
    bodyLimit({
      maxSize: MAX_SECRET_BODY_BYTES,
      onError: (c) =>
        problemResponse(c, {
          title: "Content Too Large",
          status: 413,
          parameter: "value",
          detail: `the body must be at most ${MAX_SECRET_BODY_BYTES} bytes: ${SECRET_BODY_ALLOWED}`,
        }),
    }),
    async (c) => {
      const rack = await pathRack(c);
      const name = pathParam(c, "name", secretName);
      if (ENROLLMENT_ONLY_SECRETS.has(name)) {
        throw badParameter({
          parameter: "name",
          value: name,
          allowed:
            "a secret name other than an enrollment-only one, which only admits a rack at enrollment and is never sealed into a passport",
        });
      }
      const body = secretBody.safeParse(await c.req.json().catch(() => undefined));
      if (!body.success) {
        // The body may hold the secret: the problem says what it lacks, never what it was.
        throw badParameter({
          parameter: "value",
          value: "(the body, not repeated)",
          allowed: SECRET_BODY_ALLOWED,
        });
      }
      await setRackSecret(c.env.REGISTRY, rack, name, body.data.value);
      return reissue(c, rack.id, 0);
    },
  )
  .delete("/:id/secrets/:name", async (c) => {
    const rack = await pathRack(c);
    await deleteRackSecret(c.env.REGISTRY, rack, pathParam(c, "name", secretName));
    return reissue(c, rack.id, 0);
  });
