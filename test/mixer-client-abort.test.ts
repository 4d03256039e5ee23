import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessagesAnswer } from "../shared/journal/query-results.ts";
import { type MessagesStoreMixer, startMixerWithMessages } from "./helpers/messages-store.ts";
import { eventually, MIXER_START_MS, type TestMixer } from "./helpers/test-mixer.ts";

/**
 * A client that gives up on a request costs that request only: the local mixer keeps serving everyone else.
 * Browsers abort fetches in flight whenever the user navigates away (the console), an operator stops a long
 * scan or an upload with Ctrl-C. wrangler up to 4.129.0 (cloudflare/workers-sdk#15317, #15451) took a failed
 * forward from its proxy to the Worker as fatal: `wrangler dev` exited with an empty `✘ [ERROR]`, and with it
 * the whole `npm run dev`. On this machine the abandoned uploads stopped wrangler 4.124 in every run, during
 * their rounds or just after (the scans then found no mixer); aborted scans alone did not, but they are what
 * users met, so they are kept.
 */
const HOUR = 3_600_000;
const END = Math.floor(Date.now() / HOUR) * HOUR;
const SCENARIO = new URL("../examples/scenarios/demo-single-rack.yaml", import.meta.url);

let store: MessagesStoreMixer;
let mixer: TestMixer;
/** Why wrangler dev stopped, once it has. */
let exited: string | undefined;
/** A promoted amount of the oldest hour's messages: a newest-first scan for it reads every object. */
let amount: string;

beforeAll(async () => {
  // Messages for scans that take a while: 24 hourly objects, every one read by a filter few rows match.
  store = await startMixerWithMessages("fluxrig-client-abort-", END, {
    rows: 24 * 2_000,
    rowsPerObject: 2_000,
  });
  ({ mixer, amount } = store);
  void mixer.failed.then((reason) => {
    exited = reason;
  });
}, MIXER_START_MS + 60_000);

afterAll(async () => {
  await store?.dispose();
});

/**
 * Sends a request to the mixer. When it cannot be made, the error carries the mixer's last lines: a stopped
 * `wrangler dev` leaves only "fetch failed" behind, its own output says why it stopped.
 */
async function request(send: () => Promise<Response>): Promise<Response> {
  try {
    return await send();
  } catch (error) {
    const last = mixer.output().split("\n").slice(-15).join("\n");
    throw new Error(`the mixer stopped answering (${(error as Error).message}); its last lines:\n${last}`, {
      cause: error,
    });
  }
}

/** The mixer answers, and wrangler dev is still the process that answers (it was not restarted). */
async function expectServing(): Promise<void> {
  expect((await request(() => mixer.api("/health"))).status).toBe(200);
  expect(exited).toBeUndefined();
}

/**
 * Starts a scenario import that announces 200 KiB and sends 16 KiB, then hangs up once the Worker is reading
 * it: a client giving up on an upload part-way.
 */
function abandonUpload(): Promise<void> {
  const { port } = new URL(mixer.apiUrl);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(
        `POST /api/v1/scenarios HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Authorization: Bearer ${mixer.env.FLUXRIG_API_TOKEN}\r\nContent-Type: application/yaml\r\n` +
          `Content-Length: ${200 * 1024}\r\n\r\n${"#".repeat(16 * 1024)}`,
      );
      // Long enough for the request to reach the Worker and for it to wait on the rest of the body.
      setTimeout(() => {
        socket.destroy();
        done();
      }, 500);
    });
    socket.once("error", fail);
  });
}

/** A 24 h scan of the messages, newest first, for rows of the oldest hour: it reads every object. */
function scan(signal?: AbortSignal): Promise<Response> {
  const query = new URLSearchParams({
    since: new Date(END - 24 * HOUR).toISOString(),
    until: new Date(END).toISOString(),
    limit: "50",
    gear_id: "hsm",
    "promoted.amount": amount,
  });
  return fetch(`${mixer.apiUrl}/api/v1/messages?${query}`, {
    headers: { authorization: `Bearer ${mixer.env.FLUXRIG_API_TOKEN}` },
    signal: signal ?? AbortSignal.timeout(120_000),
  });
}

describe("the local mixer keeps serving after a client aborts a request", () => {
  it("uploads abandoned part-way: each fails alone, and the next import is stored", async () => {
    const yaml = await readFile(SCENARIO, "utf8");
    const versions = ["1", "2", "3", "4", "5", "6"];
    for (const version of versions) {
      await abandonUpload();
      await expectServing();
      const imported = await request(() =>
        mixer.api("/api/v1/scenarios", {
          method: "POST",
          headers: { "content-type": "application/yaml" },
          body: yaml.replace(/^ {2}version: "1"$/m, `  version: "${version}"`),
        }),
      );
      expect(imported.status, await imported.clone().text()).toBe(201);
    }
    const listed = (await (await request(() => mixer.api("/api/v1/scenarios/demo"))).json()) as {
      versions: { version: string }[];
    };
    expect(listed.versions.map((v) => v.version).sort()).toEqual(versions);
    await expectServing();
  }, 180_000);

  it("scans aborted while they run: the next scan answers the same rows", async () => {
    const first = await request(() => scan());
    expect(first.status).toBe(200);
    const expected = ((await first.json()) as MessagesAnswer).messages.map((m) => m.record_id);
    expect(expected.length).toBeGreaterThan(0);
    for (let round = 0; round < 3; round++) {
      // Four at once (the isolate runs two and queues the rest), left by their client a moment after they
      // reached the Worker, long before a scan of every object is done: a browser leaving the page.
      // The test stops waiting at the abort: Node 20's fetch can leave pending a body read the abort came into.
      const leaving = new AbortController();
      const left = new Promise<void>((resolve) => leaving.signal.addEventListener("abort", () => resolve()));
      const scans = Array.from({ length: 4 }, () =>
        Promise.race([scan(leaving.signal).then((res) => res.arrayBuffer()), left]).catch(() => undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      leaving.abort();
      await Promise.all(scans);
      await expectServing();
      // The aborted scans may still hold the isolate's slots a moment: a client retries a 503 as told.
      const rows = await eventually("a scan answered after the aborted ones", async () => {
        const res = await request(() => scan());
        if (res.status === 503) return undefined;
        expect(res.status).toBe(200);
        return ((await res.json()) as MessagesAnswer).messages.map((m) => m.record_id);
      });
      expect(rows).toEqual(expected);
    }
  }, 300_000);
});
