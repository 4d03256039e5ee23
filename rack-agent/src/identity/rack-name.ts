import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";

/**
 * The name this rack claims: `base.name`, or when that is empty `rack.name_prefix` and six hex digits of
 * its identity key's fingerprint, which stay the same as long as the key does.
 *
 * @example rackName("", "node-", "SHA256:3fa9c2…") // "node-3fa9c2"
 */
export function rackName(baseName: string, prefix: string, fingerprint: string): string {
  return baseName || `${prefix}${fingerprint.replace(/^SHA256:/, "").slice(0, 6)}`;
}

/**
 * The IP this rack reports: `rack.ip`, else the source address of the default route (found by connecting a
 * UDP socket to a documentation address, which sends nothing), else the first external IPv4 address, else
 * 127.0.0.1.
 *
 * @example await primaryIp("") // "10.0.0.5"
 */
export async function primaryIp(configured: string): Promise<string> {
  if (configured) return configured;
  const routed = await new Promise<string | undefined>((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(undefined);
    });
    socket.connect(9, "192.0.2.1", () => {
      const { address } = socket.address();
      socket.close();
      resolve(address);
    });
  });
  if (routed && routed !== "0.0.0.0") return routed;
  const external = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === "IPv4" && !entry.internal);
  return external?.address ?? "127.0.0.1";
}
