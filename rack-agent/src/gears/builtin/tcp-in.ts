import { createServer, type Socket } from "node:net";
import type { FluxData, FluxMsg } from "../../../../shared/fluxmsg/message.ts";
import { tcpInGearType } from "../../../../shared/gears/tcp-in.ts";
import { defineGear } from "../gear.ts";
import { PendingReplies } from "../pending-replies.ts";
import { FrameReader, frame } from "./length-prefixed.ts";
import { listen } from "./listen.ts";

/**
 * `tcp-in`: frames with a 2-byte big-endian length prefix on `host:port`. Each frame is a message on `out`
 * (`raw` the frame; `data` its text or JSON with `decode`); zero-length frames are keep-alives and are
 * skipped. A message with the frame's flux_id on `reply` is written back on the same connection, framed:
 * its `data` as JSON or text with `decode: json` or `utf8`, its `raw` bytes with `decode: none`.
 * A frame that cannot be decoded is dead-lettered; the connection goes on.
 */
export const tcpInGear = defineGear(tcpInGearType, (ctx) => {
  const { host, port, type, decode, reply_timeout } = ctx.config;
  const pending = new PendingReplies<Socket>();
  const sockets = new Set<Socket>();
  let open = false;
  let connections = 0;
  const decodeFrame = (bytes: Uint8Array): FluxData => {
    if (decode === "none") return null;
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return decode === "json" ? (JSON.parse(text) as FluxData) : text;
  };
  /** A reply goes back the way frames came: `data` as JSON or text when decoded, else `raw`. */
  const encodeReply = (msg: FluxMsg): Uint8Array => {
    if (decode === "none") return msg.raw ?? new Uint8Array(0);
    const text = decode === "json" ? JSON.stringify(msg.data) : String(msg.data ?? "");
    return new TextEncoder().encode(text);
  };
  const receive = async (socket: Socket, id: string, bytes: Uint8Array<ArrayBuffer>) => {
    const meta = { "tcp.connection": id, "tcp.remote": `${socket.remoteAddress}:${socket.remotePort}` };
    let data: FluxData;
    try {
      data = decodeFrame(bytes);
    } catch (error) {
      ctx.deadLetter(
        ctx.newMessage({ type, data: null, raw: bytes, meta }),
        `frame not ${decode}: ${(error as Error).message}`,
      );
      return;
    }
    const msg = ctx.newMessage({ type, data, raw: bytes, meta });
    if (ctx.wiredInputs.has("reply")) {
      pending.add(msg.id, socket, reply_timeout, () =>
        ctx.log.warn(`no reply within ${reply_timeout} ms for the frame ${msg.id}`, {}, msg.id),
      );
    }
    try {
      await ctx.emit("out", msg);
    } catch (error) {
      // Only a guaranteed lane that will never store it gets here: no reply will come.
      pending.take(msg.id);
      ctx.deadLetter(msg, (error as Error).message);
    }
  };
  const server = createServer((socket) => {
    if (!open) return void socket.destroy();
    const id = String(++connections);
    sockets.add(socket);
    const reader = new FrameReader();
    let chain = Promise.resolve();
    socket.on("data", (chunk) => {
      for (const bytes of reader.push(chunk)) {
        if (bytes.length > 0) chain = chain.then(() => receive(socket, id, bytes));
      }
    });
    socket.on("error", (error) => ctx.log.debug(`connection ${id}: ${error.message}`));
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    init: () => listen(server, host, port, ctx.log, (address) => `tcp://${address}`),
    start() {
      open = true;
    },
    process(msg) {
      const socket = pending.take(msg.id);
      if (!socket || socket.destroyed) {
        return ctx.log.debug(`reply for ${msg.id}: its connection is gone or it came too late`, {}, msg.id);
      }
      socket.write(frame(encodeReply(msg)));
    },
    drain() {
      open = false;
      server.close();
    },
    stop() {
      pending.takeAll();
      for (const socket of sockets) socket.destroy();
    },
  };
});
