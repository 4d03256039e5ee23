import type { LogLevel } from "../../../shared/config/index.ts";
import { type NatsServerOptions, type NatsServerProcess, startNatsServerProcess } from "./nats-server.ts";

/** At most this many restarts within RESTART_WINDOW_MS; past that the server is taken as broken. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface SupervisedNats {
  /** The server running now (a new one after each restart, on the same ports and store). */
  readonly current: NatsServerProcess;
  /** Resolves with a reason when the server keeps dying and is given up on. */
  readonly failed: Promise<string>;
  /** Stops the server for good (SIGINT, its clean shutdown); no restart follows. */
  stop(): Promise<void>;
}

export interface SupervisorHooks {
  log: (line: string, level?: LogLevel) => void;
  /** Runs after each restart, before the server counts as back (e.g. to recreate in-memory streams). */
  onRestart: (nats: NatsServerProcess) => Promise<void>;
  /** Told each new process, so nothing outlives the launcher. */
  onSpawn: (nats: NatsServerProcess) => void;
}

/**
 * Runs nats-server and restarts it on the same ports when it dies, instead of tearing the local mixer down:
 * racks spool to their write-ahead logs meanwhile, and the mixer's bridge reconnects on its own.
 *
 * @example
 * const nats = await superviseNatsServer(options, { log, onRestart: createStreams, onSpawn: watch });
 */
export async function superviseNatsServer(
  options: NatsServerOptions,
  hooks: SupervisorHooks,
): Promise<SupervisedNats> {
  let current = await startNatsServerProcess(options);
  hooks.onSpawn(current);
  let stopping = false;
  const restarts: number[] = [];
  let giveUp: (reason: string) => void = () => {};
  const failed = new Promise<string>((resolve) => {
    giveUp = resolve;
  });

  const follow = (nats: NatsServerProcess) => {
    void nats.exited.then(async (code) => {
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while ((restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        giveUp(`nats-server exited (${code ?? "signal"}) ${restarts.length} times within a minute`);
        return;
      }
      hooks.log(
        `nats-server exited unexpectedly (${code === null ? "killed by a signal" : `exit ${code}`}); restarting it on the same ports`,
        "warn",
      );
      let next: NatsServerProcess | undefined;
      for (let attempt = 1; !next; attempt++) {
        try {
          next = await startNatsServerProcess({ ...options, port: portOf(nats.url, options.port) });
        } catch (error) {
          // A port of the dead server can linger for a moment; retry a few times before giving up.
          if (attempt >= 10) {
            giveUp(`nats-server could not be restarted: ${(error as Error).message}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
      hooks.onSpawn(next);
      current = next;
      if (stopping) {
        await next.stop();
        return;
      }
      follow(next);
      await hooks
        .onRestart(next)
        .catch((error: Error) => hooks.log(`after restarting nats-server: ${error.message}`, "error"));
      hooks.log(`nats-server is back at ${next.url}`);
    });
  };
  follow(current);

  return {
    get current() {
      return current;
    },
    failed,
    async stop() {
      stopping = true;
      await current.stop();
    },
  };
}

/** The port a server took (-1 in the options means it picked one): a restart keeps the racks' URL valid. */
function portOf(url: string, configured: number): number {
  return configured === -1 ? Number(new URL(url).port) : configured;
}
