/**
 * A stable UUID for an entity name (version 8, from SHA-256 of the name), used until the rack holds the id
 * its passport assigns: the same name always maps to the same id, so records of one rack group together.
 *
 * @example await nameBasedEntityId("rack-nyc-01") // "5f1c…-8…"
 */
export async function nameBasedEntityId(name: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`fluxrig:${name}`)),
  );
  const bytes = digest.slice(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
