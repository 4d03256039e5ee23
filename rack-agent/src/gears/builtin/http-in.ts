import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { FluxData } from "../../../../shared/fluxmsg/message.ts";
import { httpInGearType } from "../../../../shared/gears/http-in.ts";
import { defineGear } from "../gear.ts";
import { PendingReplies } from "../pending-replies.ts";
import { listen } from "./listen.ts";

function answer(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** The body, or undefined once it passed `max` bytes (the request was answered 413 then). */
async function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      answer(res, 413, { error: `body over ${max} bytes (max_body)` });
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * `http-in`: serves `path` on `host:port`. A JSON body becomes `data`; any other non-empty body goes in
 * `raw`. The request waits up to `reply_timeout` for a message with its flux_id on `reply`, else gets 202
 * with the flux_id. The listening address is logged (port 0 takes a free one).
 */
export const httpInGear = defineGear(httpInGearType, (ctx) => {
  const { host, port, path, type, reply_timeout, max_body } = ctx.config;
  const pending = new PendingReplies<ServerResponse>();
  const accepted = (res: ServerResponse, id: string) => answer(res, 202, { flux_id: id });
  let open = false;
  const server = createServer(async (req, res) => {
    if (!open) return answer(res, 503, { error: "this gear is stopping" });
    if (new URL(req.url ?? "/", "http://x").pathname !== path)
      return answer(res, 404, { error: `no such path; this gear serves ${path}` });
    const body = await readBody(req, res, max_body);
    if (!body) return;
    const json = (req.headers["content-type"] ?? "").includes("json");
    let data: FluxData = null;
    try {
      if (json && body.length > 0) data = JSON.parse(body.toString("utf8")) as FluxData;
    } catch (error) {
      return answer(res, 400, { error: `the body is not JSON: ${(error as Error).message}` });
    }
    const msg = ctx.newMessage(
      {
        type,
        data,
        ...(json || body.length === 0 ? {} : { raw: new Uint8Array(body) }),
        meta: { "http.method": req.method ?? "GET", "http.path": path },
      },
      req.headers.traceparent as string | undefined,
    );
    const replying = ctx.wiredInputs.has("reply");
    // 202 means stored: a reply timeout that fires while a guaranteed lane is still storing the message waits.
    let stored: Promise<unknown> = Promise.resolve();
    if (replying)
      pending.add(msg.id, res, reply_timeout, (late) => {
        void stored.then(
          () => accepted(late, msg.id),
          (error: Error) => answer(late, 503, { error: error.message, flux_id: msg.id }),
        );
      });
    stored = (async () => ctx.emit("out", msg))();
    try {
      await stored;
    } catch (error) {
      // A guaranteed lane will never store it: the client hears so, and can send it again.
      const waiting = replying ? pending.take(msg.id) : res;
      if (waiting) answer(waiting, 503, { error: (error as Error).message, flux_id: msg.id });
      return;
    }
    // Accepted once the flow took it: on a guaranteed lane, once JetStream stored it.
    if (!replying) accepted(res, msg.id);
  });
  return {
    init: () => listen(server, host, port, ctx.log, (address) => `http://${address}${path}`),
    start() {
      open = true;
    },
    process(msg) {
      const res = pending.take(msg.id);
      if (!res) return ctx.log.debug(`reply for ${msg.id} came after its request was answered`, {}, msg.id);
      const status = Number(msg.meta["http.status"] ?? 200);
      answer(res, Number.isInteger(status) && status >= 200 && status < 600 ? status : 200, msg.data);
    },
    drain() {
      open = false;
    },
    async stop() {
      for (const res of pending.takeAll())
        answer(res, 503, { error: "this gear stopped before the reply came" });
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});
