import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FrameReader, frame } from "../rack-agent/src/gears/builtin/length-prefixed.ts";
import { freePort } from "./helpers/free-port.ts";
import { type RunningBin, startBin } from "./helpers/run-bin.ts";
import { fluxrigCli, MIXER_START_MS, rackEnv, startTestMixer, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * The two-rack card authorization example end to end: frames into tcp-in on the edge rack, declines answered
 * there, authorizations across a guaranteed lane to http-out on the core rack (an issuer stub here), and the
 * issuer's answers back across the other lane. Durable streams, so a rack's crash is what is tested.
 */

const API_KEY = "issuer-key-for-tests";
let mixer: TestMixer;
let dir: string;
let switchPort: number;
let issuer: { server: Server; url: string; seen: number[]; keys: Set<string | undefined> };
let edge: RunningBin;
let core: RunningBin;

const cli = (args: string[]) => fluxrigCli(mixer, args, 90_000);

/** A rack whose labels are in `<dir>/<name>.toml`. */
function startRack(name: string): RunningBin {
  const rack = startBin("fluxrig", ["run"], {
    env: {
      FLUXRIG_CONFIG: join(dir, `${name}.toml`),
      ...rackEnv(mixer, dir, name),
    },
  });
  return rack;
}

/** The example as it ships, pointed at this test's ports and issuer; version and one gear's ops as asked. */
async function scenarioCopy(version: string, answerOps = ""): Promise<string> {
  const text = (await readFile("examples/scenarios/card-authorization.yaml", "utf8"))
    .replace("version: 1.0.0", `version: ${version}`)
    .replace("config: { port: 9100,", `config: { port: ${switchPort}, reply_timeout: 60s,`)
    .replace("https://issuer.example.com/authorize", issuer.url)
    .replace("        - delete: data.body\n", `        - delete: data.body\n${answerOps}`);
  const file = join(dir, `card-auth-${version}.yaml`);
  await writeFile(file, text);
  return file;
}

async function activate(version: string, answerOps = ""): Promise<void> {
  const imported = await cli(["scenario", "import", await scenarioCopy(version, answerOps)]);
  expect(imported.code, imported.stderr).toBe(0);
  const activated = await cli(["scenario", "activate", `card-auth:${version}`, "--wait"]);
  expect(activated.code, activated.stdout + activated.stderr).toBe(0);
}

/** What a frame should come back as: declined at the edge ("05") or approved by the issuer ("00"). */
function cardFrame(seq: number): { body: Record<string, unknown>; approved: boolean } {
  const kind = seq % 5;
  const body = {
    seq,
    pan: kind === 1 ? "4000123412341234" : "5500123412341234",
    amt: kind === 0 ? 750_000 : 1_000 + seq,
    currency: kind === 2 ? "JPY" : "EUR",
    track2: "5500123412341234=2912",
  };
  return { body, approved: kind >= 3 };
}

interface Replies {
  approved: number;
  declined: Set<number>;
  other: unknown[];
}

/** Sends frames `from`..`from+count-1` at `perSecond`, collecting the replies on the same connection. */
async function sendFrames(from: number, count: number, perSecond: number) {
  const socket: Socket = connect(switchPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const replies: Replies = { approved: 0, declined: new Set(), other: [] };
  const reader = new FrameReader();
  socket.on("data", (chunk) => {
    for (const bytes of reader.push(chunk)) {
      const data = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
      if (data.response_code === "00" && data.status === 200) replies.approved++;
      else if (data.response_code === "05" && typeof data.seq === "number") replies.declined.add(data.seq);
      else replies.other.push(data);
    }
  });
  const expected = { approved: 0, approvedSeqs: new Set<number>(), declined: new Set<number>() };
  const sending = (async () => {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const seq = from + i;
      const { body, approved } = cardFrame(seq);
      if (approved) {
        expected.approved++;
        expected.approvedSeqs.add(seq);
      } else expected.declined.add(seq);
      socket.write(frame(new TextEncoder().encode(JSON.stringify(body))));
      const due = started + ((i + 1) / perSecond) * 1000;
      if (due > performance.now() + 5) await sleep(due - performance.now());
    }
  })();
  return {
    sending,
    /** Waits until every frame has its answer (or fails with the counts), then closes the connection. */
    async answered(timeoutMs = 90_000) {
      await sending;
      await expect
        .poll(() => ({ approved: replies.approved, declined: replies.declined.size }), { timeout: timeoutMs })
        .toEqual({ approved: expected.approved, declined: expected.declined.size });
      expect(replies.declined).toEqual(expected.declined);
      expect(replies.other).toEqual([]);
      for (const seq of expected.approvedSeqs) expect(issuer.seen).toContain(seq);
      socket.destroy();
      return expected;
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fluxrig-two-rack-"));
  switchPort = await freePort();
  const seen: number[] = [];
  const keys = new Set<string | undefined>();
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      keys.add(req.headers["x-api-key"] as string | undefined);
      seen.push((JSON.parse(body) as { seq: number }).seq);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ response_code: "00", issuer: "stub" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  issuer = { server, url: `http://127.0.0.1:${address.port}/authorize`, seen, keys };

  mixer = await startTestMixer({
    env: {
      FLUXRIG_ENROLLMENT_AUTO_ADOPT: "true",
      FLUXRIG_SNAKE_DURABLE: "true",
      FLUXRIG_MIXER_SCENARIO_WAIT_TIMEOUT: "30s",
    },
  });
  await writeFile(join(dir, "rack-edge-01.toml"), '[rack]\nlabels = { role = "edge" }\n');
  await writeFile(join(dir, "rack-core-01.toml"), '[rack]\nlabels = { role = "core" }\n');
  edge = startRack("rack-edge-01");
  core = startRack("rack-core-01");
  await edge.waitFor(/connected to/, { timeoutMs: 60_000 });
  const active = await core.waitFor(/passport: rack \S+ is active/, { timeoutMs: 60_000 });
  const coreId = (/passport: rack (\S+) is active/.exec(active) as RegExpExecArray)[1] as string;
  const since = core.output.length;
  const put = await mixer.api(`/api/v1/racks/${coreId}/secrets/ISSUER_API_KEY`, {
    method: "PUT",
    body: JSON.stringify({ value: API_KEY }),
    headers: { "content-type": "application/json" },
  });
  expect(put.status, await put.text()).toBeLessThan(300);
  await core.waitFor(/secrets: ISSUER_API_KEY/, { since, timeoutMs: 30_000 });
  await activate("1.0.0");
}, MIXER_START_MS + 120_000);

afterAll(async () => {
  await edge?.stop("SIGKILL");
  await core?.stop("SIGKILL");
  await mixer?.dispose();
  issuer?.server.close();
  await rm(dir, { recursive: true, force: true });
});

it("answers every frame as routed: declines at the edge, approvals from the issuer across two guaranteed lanes", async () => {
  const flow = await sendFrames(0, 500, 250);
  const expected = await flow.answered();
  expect(expected.approved).toBe(200);
  expect(issuer.keys).toEqual(new Set([API_KEY]));
  expect(edge.output).toMatch(/scenario card-auth 1\.0\.0 \([0-9a-f]{12}\) on edge: 5 started/);
  expect(core.output).toMatch(/scenario card-auth 1\.0\.0 \([0-9a-f]{12}\) on core: 1 started/);
}, 120_000);

it("the core rack SIGKILLed mid-flow and started again loses nothing on the guaranteed lanes", async () => {
  const flow = await sendFrames(10_000, 600, 150);
  await sleep(1_500);
  const before = issuer.seen.filter((seq) => seq >= 10_000).length;
  expect(await core.stop("SIGKILL")).toBe(null);
  // Killed mid-flow: some authorizations were done, most were not.
  expect(before).toBeGreaterThan(0);
  expect(before).toBeLessThan(240);
  await sleep(500);
  core = startRack("rack-core-01");
  await core.waitFor(/running the stored scenario part of card-auth 1\.0\.0/, { timeoutMs: 60_000 });
  const expected = await flow.answered(120_000);
  expect(expected.approved).toBe(240);
}, 180_000);

it("version 2 changing one gear restarts only that gear, and loses nothing on the guaranteed lane under load", async () => {
  const edgeSince = edge.output.length;
  const coreSince = core.output.length;
  const flow = await sendFrames(20_000, 1_000, 200);
  await sleep(1_000);
  await activate("2.0.0", "        - set: data.version\n          value: 2\n");
  await edge.waitFor(
    /scenario card-auth 2\.0\.0 \([0-9a-f]{12}\) on edge: 1 started, 1 stopped, 4 unchanged/,
    {
      since: edgeSince,
    },
  );
  await core.waitFor(
    /scenario card-auth 2\.0\.0 \([0-9a-f]{12}\) on core: 0 started, 0 stopped, 1 unchanged/,
    {
      since: coreSince,
    },
  );
  const expected = await flow.answered();
  expect(expected.approved).toBe(400);
}, 180_000);
