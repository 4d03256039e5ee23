import { contentHash } from "../scenario/content-hash.ts";
import type { FluxSpec } from "./model.ts";

/** How a gear names a spec: `id` (the last imported version) or `id:version`. */
export interface SpecReference {
  id: string;
  version?: string;
}

/**
 * @example parseSpecReference("visa-v1:1.0.0") // { id: "visa-v1", version: "1.0.0" }
 */
export function parseSpecReference(text: string): SpecReference {
  const at = text.indexOf(":");
  if (at < 0) return { id: text };
  const version = text.slice(at + 1);
  return { id: text.slice(0, at), ...(version ? { version } : {}) };
}

/**
 * SHA-256 of the spec's normal form (canonical JSON, as scenarios): the same spec written differently has
 * the same hash.
 *
 * @example await specHash(result.spec) // "5d41402abc4b2a76…"
 */
export function specHash(spec: FluxSpec): Promise<string> {
  return contentHash(spec);
}
