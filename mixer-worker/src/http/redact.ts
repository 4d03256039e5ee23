const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/**
 * Removes credentials written into URLs (`ws://user:secret@nats:4223` → `ws://***@nats:4223`) from text
 * shown to anyone who can reach an unauthenticated endpoint.
 *
 * @example redactUrls("cannot reach ws://a:b@h:1") // "cannot reach ws://***@h:1"
 */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, "$1***@");
}
