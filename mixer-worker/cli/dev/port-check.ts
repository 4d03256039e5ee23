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

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it; the race with other processes is small). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
