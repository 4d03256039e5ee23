import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { type GearHarness, sampleMessage, startGear } from "../gear-harness.ts";
import { httpInGear } from "./http-in.ts";
import { httpOutGear } from "./http-out.ts";
import { FrameReader, frame } from "./length-prefixed.ts";
import { tcpInGear } from "./tcp-in.ts";

/** The port a listening gear logged (it listens on port 0: a free one). */
function listeningPort(gear: GearHarness): number {
  const line = gear.telemetry.logs.find((log) => log.message.startsWith("listening on"));
  return line?.attributes.port as number;
}

describe("http-in", () => {
  it("turns a JSON request into a message and answers from the reply port", async () => {
    const gear = await startGear(httpInGear, { port: 0, path: "/auth" }, { wiredInputs: ["reply"] });
    onTestFinished(() => gear.stop());
    const url = `http://127.0.0.1:${listeningPort(gear)}/auth`;
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const answer = fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent },
      body: '{"amount":12}',
    });
    const { msg } = await gear.next();
    expect(msg).toMatchObject({
      type: "http.request",
      data: { amount: 12 },
      meta: { "http.method": "POST", "http.path": "/auth" },
    });
    expect(msg.trace.slice(3, 35)).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    await gear.send("reply", { ...msg, data: { approved: true }, meta: { "http.status": "201" } });
    const response = await answer;
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ approved: true });
  });

  it("answers 202 with the flux_id when no reply comes in time, or nothing is wired to reply", async () => {
    const waiting = await startGear(
      httpInGear,
      { port: 0, reply_timeout: "50ms" },
      { wiredInputs: ["reply"] },
    );
    onTestFinished(() => waiting.stop());
    const late = await fetch(`http://127.0.0.1:${listeningPort(waiting)}/`, {
      method: "POST",
      body: "plain text",
    });
    expect(late.status).toBe(202);
    const { msg } = await waiting.next();
    expect(await late.json()).toEqual({ flux_id: msg.id });
    expect(new TextDecoder().decode(msg.raw)).toBe("plain text");

    const fireAndForget = await startGear(httpInGear, { port: 0 });
    onTestFinished(() => fireAndForget.stop());
    const base = `http://127.0.0.1:${listeningPort(fireAndForget)}`;
    expect((await fetch(`${base}/`, { method: "POST" })).status).toBe(202);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect(
      (
        await fetch(`${base}/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{",
        })
      ).status,
    ).toBe(400);
  });

  it("answers 202 only once a guaranteed lane stored the request, and 503 when it never will", async () => {
    let stored = false;
    const slow = await startGear(
      httpInGear,
      { port: 0, reply_timeout: "20ms" },
      {
        wiredInputs: ["reply"],
        stored: async () => {
          await sleep(300);
          stored = true;
        },
      },
    );
    onTestFinished(() => slow.stop());
    const accepted = await fetch(`http://127.0.0.1:${listeningPort(slow)}/`, { method: "POST" });
    // The reply timeout fired long before the store finished: the client still heard 202 only once stored.
    expect(accepted.status).toBe(202);
    expect(stored).toBe(true);

    const down = await startGear(
      httpInGear,
      { port: 0, reply_timeout: "20ms" },
      { wiredInputs: ["reply"], stored: () => sleep(100).then(() => Promise.reject(new Error("bus down"))) },
    );
    onTestFinished(() => down.stop());
    const refused = await fetch(`http://127.0.0.1:${listeningPort(down)}/`, { method: "POST" });
    expect(refused.status).toBe(503);
    const { msg } = await down.next();
    expect(await refused.json()).toEqual({ error: "bus down", flux_id: msg.id });
  });
});

describe("tcp-in", () => {
  it("reads length-prefixed frames, however they are chunked, and writes replies back framed", async () => {
    const gear = await startGear(tcpInGear, { port: 0, decode: "json" }, { wiredInputs: ["reply"] });
    onTestFinished(() => gear.stop());
    const socket = connect(listeningPort(gear), "127.0.0.1");
    onTestFinished(() => void socket.destroy());
    const replies: string[] = [];
    const reader = new FrameReader();
    socket.on("data", (chunk) => replies.push(...reader.push(chunk).map((b) => new TextDecoder().decode(b))));
    const one = frame(new TextEncoder().encode('{"stan":1}'));
    const two = frame(new TextEncoder().encode('{"stan":2}'));
    const keepAlive = frame(new Uint8Array(0));
    const bytes = new Uint8Array([...one, ...keepAlive, ...two]);
    socket.write(bytes.subarray(0, 5));
    socket.write(bytes.subarray(5));
    const first = (await gear.next()).msg;
    const second = (await gear.next()).msg;
    expect([first.data, second.data]).toEqual([{ stan: 1 }, { stan: 2 }]);
    expect(new TextDecoder().decode(first.raw)).toBe('{"stan":1}');
    await gear.send("reply", { ...second, data: { stan: 2, rc: "00" } });
    await gear.send("reply", { ...first, data: { stan: 1, rc: "05" } });
    await expect.poll(() => replies).toEqual(['{"stan":2,"rc":"00"}', '{"stan":1,"rc":"05"}']);
  });

  it("with decode: none, passes raw frames and writes a reply's raw bytes", async () => {
    const gear = await startGear(tcpInGear, { port: 0 }, { wiredInputs: ["reply"] });
    onTestFinished(() => gear.stop());
    const socket = connect(listeningPort(gear), "127.0.0.1");
    onTestFinished(() => void socket.destroy());
    const reader = new FrameReader();
    const replies: Uint8Array[] = [];
    socket.on("data", (chunk) => replies.push(...reader.push(chunk)));
    socket.write(frame(new Uint8Array([0x02, 0x00, 0xff])));
    const { msg } = await gear.next();
    expect(msg.data).toBeNull();
    await gear.send("reply", { ...msg, raw: new Uint8Array([0x02, 0x10]) });
    await expect.poll(() => replies.map((r) => [...r])).toEqual([[0x02, 0x10]]);
  });

  it("dead-letters a frame it cannot decode and goes on with the connection", async () => {
    const gear = await startGear(tcpInGear, { port: 0, decode: "json" });
    onTestFinished(() => gear.stop());
    const socket = connect(listeningPort(gear), "127.0.0.1");
    onTestFinished(() => void socket.destroy());
    socket.write(frame(new TextEncoder().encode("{not json")));
    socket.write(frame(new TextEncoder().encode("[1]")));
    expect((await gear.next()).msg.data).toEqual([1]);
    expect(gear.deadLetters[0]?.reason).toMatch(/^frame not json: /);
    expect(new TextDecoder().decode(gear.deadLetters[0]?.msg.raw)).toBe("{not json");
  });
});

describe("http-out", () => {
  async function server(statuses: number[]) {
    const seen: { body: string; headers: Record<string, unknown> }[] = [];
    const http = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      seen.push({ body, headers: req.headers });
      const status = statuses[seen.length - 1] ?? 200;
      res
        .writeHead(status, { "content-type": "application/json" })
        .end(JSON.stringify({ attempt: seen.length }));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => void http.close());
    return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/authorize`, seen };
  }

  it("posts data as JSON with secret headers and the traceparent, retries 5xx, and emits the answer", async () => {
    const { url, seen } = await server([503, 500, 200]);
    const gear = await startGear(
      httpOutGear,
      { url, headers: { "x-api-key": "${KEY}" }, backoff: "1ms", retries: 3 },
      { secrets: { KEY: "s3cret" } },
    );
    onTestFinished(() => gear.stop());
    const msg = sampleMessage({ data: { amount: 10 } });
    await gear.send("in", msg);
    expect(seen).toHaveLength(3);
    expect(seen[0]?.body).toBe('{"amount":10}');
    expect(seen[0]?.headers).toMatchObject({ "x-api-key": "s3cret", "content-type": "application/json" });
    expect(String(seen[0]?.headers.traceparent).slice(0, 35)).toBe(msg.trace.slice(0, 35));
    expect(gear.emitted[0]).toMatchObject({
      port: "response",
      msg: { id: msg.id, data: { status: 200, body: { attempt: 3 } }, meta: { "http.status": "200" } },
    });
  });

  it("passes a 4xx answer on without retrying, and the last 5xx after its retries", async () => {
    const { url, seen } = await server([404, 502, 502]);
    const gear = await startGear(httpOutGear, { url, backoff: "1ms", retries: 1 });
    onTestFinished(() => gear.stop());
    await gear.send("in", sampleMessage());
    await gear.send("in", sampleMessage());
    expect(seen).toHaveLength(3);
    expect(gear.emitted.map((e) => (e.msg.data as { status: number }).status)).toEqual([404, 502]);
  });

  it("dead-letters a message that never got an answer", async () => {
    const { url } = await server([]);
    const closed = url.replace(/:\d+\//, ":1/");
    const gear = await startGear(httpOutGear, { url: closed, backoff: "1ms", retries: 1 });
    onTestFinished(() => gear.stop());
    await gear.send("in", sampleMessage());
    expect(gear.emitted).toEqual([]);
    expect(gear.deadLetters[0]?.reason).toMatch(
      /^gear http-out failed on port in: POST http:\/\/127.0.0.1:1\/authorize failed after 2 attempts: fetch failed/,
    );
  });
});
