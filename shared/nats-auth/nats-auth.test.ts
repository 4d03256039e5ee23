import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type ConnectionOptions, jwtAuthenticator, type NatsConnection } from "@nats-io/nats-core";
import { createAccount, createUser } from "@nats-io/nkeys";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminAuth, type NatsServer, startNatsServer } from "../../test/helpers/nats-server.ts";
import { heartbeatSubject, journalSubject, passportSubject, telemetrySubject } from "../fluxmsg/subjects.ts";
import { pushAccountJwt } from "./account-update.ts";
import { accountJwt, REVOKED_FOREVER, systemUser, userJwt } from "./claims.ts";
import {
  ENROLLMENT_INBOX_PREFIX,
  enrollmentPermissions,
  type RackBusScope,
  rackInboxPrefix,
  rackPermissions,
} from "./permissions.ts";

const A = { id: "0190a1b2-0000-7000-8000-00000000000a", name: "rack-a" };
const B = { id: "0190a1b2-0000-7000-8000-00000000000b", name: "rack-b" };

/** One guaranteed lane from rack A (alias edge) to rack B (alias core), as their scenario parts wire it. */
const LANE = { subject: "flux.msg.core.sink.in", durable: "fluxmsg-core-sink-in" };
const to = { gear: "sink", port: "in" };
const PARTS = {
  sender: { publish: [{ from: { gear: "gen", port: "out" }, subject: LANE.subject }], consume: [] },
  receiver: { publish: [], consume: [{ ...LANE, to }] },
};

let server: NatsServer;
let admin: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer({ operator: true });
  admin = await connect({ servers: server.url, ...(await adminAuth(server)) });
  const jsm = await jetstreamManager(admin, { domain: "flux" });
  await jsm.streams.add({ name: "flux-telemetry", subjects: ["flux.telemetry.>", "flux.journal.>"] });
  await jsm.streams.add({ name: "flux-msg", subjects: ["flux.msg.>"] });
});
afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

/** Connects as rack `rack` with a user JWT the way the mixer issues it; `ttlMs` < 0 makes it expired. */
async function connectRack(
  rack: { id: string; name: string },
  options: {
    ttlMs?: number;
    signer?: "account" | "forged";
    user?: ReturnType<typeof createUser>;
    lanes?: RackBusScope["lanes"];
  } = {},
): Promise<{ nc: NatsConnection; userKey: string }> {
  const user = options.user ?? createUser();
  const keys = server.keys as NonNullable<NatsServer["keys"]>;
  const issuing = options.signer === "forged" ? { ...keys, accountSigning: createAccount() } : keys;
  const jwt = await userJwt(issuing, user.getPublicKey(), {
    name: rack.name,
    permissions: rackPermissions({
      rackId: rack.id,
      rackName: rack.name,
      domain: "flux",
      businessStream: "flux-msg",
      ...(options.lanes ? { lanes: options.lanes } : {}),
    }),
    ttlMs: options.ttlMs ?? 60_000,
  });
  const nc = await connect({
    servers: server.url,
    authenticator: jwtAuthenticator(jwt, user.getSeed()),
    inboxPrefix: rackInboxPrefix(rack.id),
    maxReconnectAttempts: 0,
  } satisfies ConnectionOptions);
  return { nc, userKey: user.getPublicKey() };
}

/** The next permission violation the server reports on `nc`. */
async function nextPermissionError(nc: NatsConnection): Promise<string> {
  for await (const status of nc.status()) {
    if (status.type === "error" && /permission/i.test(String(status.error))) return String(status.error);
  }
  return "closed without a permission error";
}

describe("a server in operator mode", () => {
  it("refuses an anonymous client, a forged JWT and an expired JWT", async () => {
    await expect(connect({ servers: server.url, maxReconnectAttempts: 0 })).rejects.toThrow(/authoriz/i);
    await expect(connectRack(A, { signer: "forged" })).rejects.toThrow(/authoriz/i);
    await expect(connectRack(A, { ttlMs: -60_000 })).rejects.toThrow(/authoriz|expired/i);
  });

  it("lets racks publish their own telemetry, and send and pull on the lanes their parts wire, acks included", async () => {
    const sender = await connectRack(A, { lanes: PARTS.sender });
    const receiver = await connectRack(B, { lanes: PARTS.receiver });
    try {
      const js = jetstream(sender.nc, { domain: "flux" });
      const ack = await js.publish(telemetrySubject("logs", A.name), "x");
      expect(ack.stream).toBe("flux-telemetry");
      await js.publish(journalSubject(A.name), "j");
      // Refused requests time out: 1 s is plenty on a local server.
      const jsm = await jetstreamManager(receiver.nc, { domain: "flux", timeout: 1_000 });
      await jsm.consumers.add("flux-msg", {
        durable_name: LANE.durable,
        filter_subject: LANE.subject,
        ack_policy: AckPolicy.Explicit,
      });
      await js.publish(LANE.subject, "m");
      const consumer = await jetstream(receiver.nc, { domain: "flux" }).consumers.get(
        "flux-msg",
        LANE.durable,
      );
      const message = await consumer.next({ expires: 5_000 });
      expect(message?.string()).toBe("m");
      expect(await message?.ackAck()).toBe(true);
      // Stream management is the mixer's alone.
      await expect(jsm.streams.purge("flux-telemetry")).rejects.toThrow();
      await expect(jsm.consumers.delete("flux-msg", LANE.durable)).rejects.toThrow();
    } finally {
      await sender.nc.close();
      await receiver.nc.close();
    }
  });

  it("refuses a rack a lane its part does not wire: no publish elsewhere, no other durable, no wider filter", async () => {
    const receiver = await connectRack(B, { lanes: PARTS.receiver });
    const sender = await connectRack(A, { lanes: PARTS.sender });
    try {
      // The receiver's durable pointed at every lane, and the sender reading the receiver's durable.
      for (const [nc, filter] of [
        [receiver.nc, "flux.msg.>"],
        [sender.nc, LANE.subject],
      ] as const) {
        const violation = nextPermissionError(nc);
        const jsm = await jetstreamManager(nc, { domain: "flux", timeout: 1_000 });
        const config = { durable_name: LANE.durable, filter_subject: filter, ack_policy: AckPolicy.Explicit };
        await expect(jsm.consumers.add("flux-msg", config)).rejects.toThrow();
        expect(await violation).toMatch(/publish.*CONSUMER\.CREATE\.flux-msg/i);
      }
    } finally {
      await receiver.nc.close();
      await sender.nc.close();
    }
    // Publishing on a lane it does not send on, or with no part at all.
    for (const [rack, lanes, subject] of [
      [A, PARTS.sender, "flux.msg.other.sink.in"],
      [B, PARTS.receiver, LANE.subject],
      [A, undefined, LANE.subject],
    ] as const) {
      const { nc } = await connectRack(rack, lanes ? { lanes } : {});
      const violation = nextPermissionError(nc);
      nc.publish(subject, "forged");
      await nc.flush();
      expect(await violation).toMatch(new RegExp(`publish.*${subject.replaceAll(".", "\\.")}`, "i"));
      await nc.close();
    }
  });

  it("refuses rack A publishing on rack B's telemetry, heartbeat and journal subjects", async () => {
    for (const subject of [
      telemetrySubject("logs", B.name),
      heartbeatSubject(B.id),
      journalSubject(B.name),
    ]) {
      const { nc } = await connectRack(A);
      const violation = nextPermissionError(nc);
      nc.publish(subject, "forged");
      await nc.flush();
      expect(await violation).toMatch(new RegExp(`publish.*${subject.replaceAll(".", "\\.")}`, "i"));
      await nc.close();
    }
  });

  it("refuses rack A subscribing to rack B's passport subject", async () => {
    const { nc } = await connectRack(A);
    try {
      const violation = nextPermissionError(nc);
      nc.subscribe(passportSubject(B.id));
      await nc.flush();
      expect(await violation).toMatch(/subscription/i);
    } finally {
      await nc.close();
    }
  });

  it("lets the enrollment user request flux.ctl.enroll and nothing else", async () => {
    const keys = server.keys as NonNullable<NatsServer["keys"]>;
    const user = createUser();
    const jwt = await userJwt(keys, user.getPublicKey(), {
      name: "enrollment",
      permissions: enrollmentPermissions(),
      bearer: true,
    });
    const nc = await connect({
      servers: server.url,
      authenticator: jwtAuthenticator(jwt),
      inboxPrefix: ENROLLMENT_INBOX_PREFIX,
    });
    const responder = admin.subscribe("flux.ctl.enroll", { callback: (_, m) => void m.respond("welcome") });
    await admin.flush();
    try {
      expect((await nc.request("flux.ctl.enroll", "hi", { timeout: 5_000 })).string()).toBe("welcome");
      const violation = nextPermissionError(nc);
      nc.publish(telemetrySubject("logs", A.name), "x");
      expect(await violation).toMatch(/publish/i);
    } finally {
      responder.unsubscribe();
      await nc.close();
    }
  });

  it("closes a revoked rack's connection within 5 s and refuses it afterwards", async () => {
    const keys = server.keys as NonNullable<NatsServer["keys"]>;
    const user = createUser();
    const { nc, userKey } = await connectRack(A, { user });
    const closed = nc.closed();
    const sys = await systemUser(keys);
    const sysNc = await connect({ servers: server.url, authenticator: jwtAuthenticator(sys.jwt, sys.seed) });
    const started = Date.now();
    try {
      await pushAccountJwt(sysNc, await accountJwt(keys, { [userKey]: REVOKED_FOREVER }));
    } finally {
      await sysNc.close();
    }
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    // Neither with the JWT it held nor with one issued after the revocation.
    await expect(connectRack(A, { user })).rejects.toThrow(/authoriz|revoked/i);
  });
});
