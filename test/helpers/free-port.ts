import { readFileSync } from "node:fs";
import { assertPortFree, freePort as osPickedPort } from "../../mixer-worker/cli/dev/port-check.ts";

/** Ports below this are never handed out by the OS for port 0 or as an outgoing connection's source port. */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
})();
const LOWEST = 20_000;

/**
 * A port free a moment ago on 127.0.0.1, for a test to hand to a server it starts (a mixer's API, its bus).
 * Picked at random below the OS's ephemeral range, where the OS gives out none of its own: a port picked by
 * the OS (port 0) is free only until the next connection or server takes it as its ephemeral port, and with
 * two test files running side by side, a `wrangler dev` lost its port that way ("Address already in use").
 *
 * @example const port = await freePort();
 */
export async function freePort(): Promise<number> {
  if (!(EPHEMERAL_LOW > LOWEST + 1_000)) return osPickedPort();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (EPHEMERAL_LOW - LOWEST));
    if (
      await assertPortFree(port, "test port").then(
        () => true,
        () => false,
      )
    )
      return port;
  }
  return osPickedPort();
}
