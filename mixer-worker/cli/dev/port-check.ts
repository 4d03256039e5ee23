import { createServer } from "node:net";

/**
 * Fails with the port and the setting to change when something already listens there, before any child
 * process starts and fails less clearly.
 *
 * @example await assertPortFree(4222, "snake.port");
 */
export function assertPortFree(port: number, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `port ${port} (${setting}) is already in use on 127.0.0.1: change ${setting} or stop what listens there`
            : `cannot listen on port ${port} (${setting}): ${error.message}`,
        ),
      );
    });
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

/**
 * A port free on 127.0.0.1 right now, chosen by the system: for listeners nobody configures (wrangler's
 * inspector), so two local mixers on one machine never fight over a fixed default.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
