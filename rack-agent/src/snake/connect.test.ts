import { createServer, type Socket } from "node:net";
import { expect, it, onTestFinished } from "vitest";
import { loadConfig, rackConfigSchema } from "../../../shared/config/index.ts";
import { startNatsServer } from "../../../test/helpers/nats-server.ts";
import { connectSnake } from "./connect.ts";

function snakeSettings(url: string, extra = "") {
  const text = `[snake]\nurl = "${url}"\nconnect_timeout = "1s"\nreconnect_wait = "50ms"\n${extra}`;
  return loadConfig(rackConfigSchema, { file: { path: "fluxrig.toml", text } }).config.snake;
}

it.each(["url", "wsUrl"] as const)("connects with the %s and does request/reply over it", async (which) => {
  const server = await startNatsServer();
  onTestFinished(() => server.stop());
  const nc = await connectSnake(snakeSettings(server[which]), { name: "rack-test" });
  onTestFinished(() => nc.close());
  const sub = nc.subscribe("probe.echo", {
    callback: (_, msg) => {
      msg.respond(msg.data);
    },
  });

  const reply = await nc.request("probe.echo", "ping", { timeout: 5_000 });

  expect(reply.string()).toBe("ping");
  expect(nc.getServer()).toBe(new URL(server[which]).host);
  sub.unsubscribe();
});

it("names snake.url when nothing listens there", async () => {
  // A port that was free a moment ago: bind, read it, close.
  const probe = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => probe.once("listening", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));

  for (const scheme of ["nats", "ws"]) {
    const url = `${scheme}://127.0.0.1:${port}`;
    await expect(connectSnake(snakeSettings(url))).rejects.toThrow(`cannot connect to Snake at ${url}: `);
    await expect(connectSnake(snakeSettings(url))).rejects.toThrow(/\(check snake\.url\)/);
  }
});

it("names snake.connect_timeout when the server never answers", async () => {
  // Accepts TCP but never sends the NATS INFO line.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket)).listen(0, "127.0.0.1");
  await new Promise((resolve) => silent.once("listening", resolve));
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
  const url = `nats://127.0.0.1:${(silent.address() as { port: number }).port}`;

  await expect(connectSnake(snakeSettings(url, ""))).rejects.toThrow(
    `cannot connect to Snake at ${url}: no answer within 1000 ms (snake.connect_timeout)`,
  );
});
