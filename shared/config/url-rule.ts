/** What a URL-valued key accepts. */
export interface UrlRule {
  /** Schemes allowed, lowercase, e.g. `["nats", "tls", "ws", "wss"]`. */
  schemes: readonly string[];
  /** A bare `host:port` is allowed too (an OTLP gRPC endpoint such as `127.0.0.1:4317`). */
  hostPort?: boolean;
  /** `""` is allowed: it turns the feature off. */
  empty?: boolean;
  /** Said when the value holds a list, to explain why one URL is enough. */
  listHint?: string;
}

const MAX_URL_LENGTH = 2_048;
const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** What a rule allows, for error messages: `a URL nats://, tls://, ws:// or wss://`. */
export function urlAllowed(rule: UrlRule): string {
  const schemes = rule.schemes.map((s) => `${s}://`);
  const list = schemes.length > 1 ? `${schemes.slice(0, -1).join(", ")} or ${schemes.at(-1)}` : schemes[0];
  return [`a URL ${list}`, ...(rule.hostPort ? ["host:port"] : []), ...(rule.empty ? ['"" (off)'] : [])].join(
    ", or ",
  );
}

/**
 * Why `text` is not a URL `rule` accepts, or undefined when it is. The reason never quotes the value (it may
 * hold credentials, or come from a `${VAR}`); the loader adds the value, masked, itself.
 *
 * @example urlProblem("ftp://x", { schemes: ["ws", "wss"] }) // "the scheme is not allowed"
 */
export function urlProblem(text: string, rule: UrlRule): string | undefined {
  if (text === "") return rule.empty ? undefined : "it is empty";
  if (text.length > MAX_URL_LENGTH) return `it is longer than ${MAX_URL_LENGTH} characters`;
  const bare = rule.hostPort ? HOST_PORT.exec(text) : null;
  if (bare) return validPort(Number(bare[1])) ? undefined : "the port is not between 1 and 65535";
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || !text.slice(scheme.length + 1).startsWith("//")) return "it is not a URL";
  if (!rule.schemes.includes(scheme)) return "the scheme is not allowed";
  if (/[\s\p{Cc}]/u.test(text)) return "it holds spaces or control characters";
  if (text.includes(","))
    return `it holds a comma: one URL, not a list${rule.listHint ? ` (${rule.listHint})` : ""}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "it is not a valid URL (host or port)";
  }
  if (url.hostname === "") return "it has no host";
  if (url.port !== "" && !validPort(Number(url.port))) return "the port is not between 1 and 65535";
  return undefined;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65_535;
}
