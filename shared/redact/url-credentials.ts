/** What replaces a credential wherever a URL is shown. */
export const REDACTED = "***";

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `user:pass@` with no scheme before it (a bare `host:port` endpoint written with credentials). */
const BARE_USERINFO = /^[^\s@/:]+:[^@]*@/;

/**
 * Masks the credentials a URL can carry: the userinfo (`nats://user:pass@host` → `nats://***@host`), every
 * query value (`?token=abc` → `?token=***`) and the fragment. The value is taken as one URL, spaces and all,
 * and the userinfo runs to its last `@`: an unencoded `@`, `/` or `?` in a password must not let part of it
 * through. Where a `@` follows a `?` or `#` (a password with `?`, or a query with `@`) nothing after the scheme
 * is shown. Text that is not URL-shaped comes back unchanged.
 *
 * @example redactUrl("wss://bridge:pw@nats:4223/?jwt=x") // "wss://***@nats:4223/?jwt=***"
 */
export function redactUrl(value: string): string {
  const scheme = SCHEME.exec(value)?.[0];
  if (scheme === undefined) return value.replace(BARE_USERINFO, `${REDACTED}@`);
  const rest = value.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  const query = rest.search(/[?#]/);
  if (at >= 0 && query >= 0 && at > query) return `${scheme}${REDACTED}`;
  const hostAndAfter = at >= 0 ? rest.slice(at + 1) : rest;
  return `${scheme}${at >= 0 ? `${REDACTED}@` : ""}${redactQuery(hostAndAfter)}`;
}

function redactQuery(text: string): string {
  const hash = text.indexOf("#");
  const beforeHash = hash >= 0 ? text.slice(0, hash) : text;
  const fragment = hash >= 0 ? `#${REDACTED}` : "";
  const question = beforeHash.indexOf("?");
  if (question < 0) return beforeHash + fragment;
  const params = beforeHash
    .slice(question + 1)
    .split("&")
    .map((param) => {
      const eq = param.indexOf("=");
      return eq >= 0 ? `${param.slice(0, eq)}=${REDACTED}` : param === "" ? "" : REDACTED;
    });
  return `${beforeHash.slice(0, question)}?${params.join("&")}${fragment}`;
}

/** A URL inside free text: a scheme, then everything up to a space, a quote or a bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const BARE_USERINFO_IN_TEXT = /(^|[\s"'(<=,[])[^\s"'<>@/:]+:(?!\/\/)[^\s"'<>@/]*@(?=[\w[])/g;

/**
 * Masks URL credentials wherever they appear in free text (log lines, error messages), with the rules of
 * {@link redactUrl}. Prefer `redactUrl` on a value before it is quoted: in text, a URL ends at a space.
 *
 * @example redactUrls("cannot reach ws://a:b@h:1: refused") // "cannot reach ws://***@h:1: refused"
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(BARE_USERINFO_IN_TEXT, `$1${REDACTED}@`);
}
