import type { AddressInfo, Server } from "node:net";
import type { GearLog } from "../gear.ts";

/**
 * Binds a listening gear's server and logs where (`port` in the attributes: port 0 takes a free one, and
 * tests read it there). Rejects when the address is taken, so the gear fails at `init`.
 *
 * @example await listen(server, "127.0.0.1", 9100, ctx.log, (a) => `tcp://${a}`);
 */
export async function listen(
  server: Server,
  host: string,
  port: number,
  log: GearLog,
  url: (address: string) => string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  log.info(`listening on ${url(`${bound.address}:${bound.port}`)}`, { port: bound.port });
}
