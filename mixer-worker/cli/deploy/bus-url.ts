/** Hosts a Worker on Cloudflare's network can never reach: this machine and private networks. */
const UNREACHABLE_HOST =
  /^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+|169\.254\.\d+\.\d+)$/i;

/**
 * Why a deployed mixer could not use `snake.websocket_url`, or undefined when it can: the Worker's bridge
 * reaches NATS only over a websocket (Workers open no raw TCP), from Cloudflare's network, so it must be
 * `wss://` (TLS) to a public host.
 *
 * @example busUrlProblem("ws://127.0.0.1:4223") // "snake.websocket_url = \"ws://127.0.0.1:4223\": …"
 */
export function busUrlProblem(url: string): string | undefined {
  const parsed = new URL(url);
  const problems = [
    ...(parsed.protocol === "wss:" ? [] : ["it must be wss:// (TLS)"]),
    ...(UNREACHABLE_HOST.test(parsed.hostname)
      ? [`${parsed.hostname} is this machine or a private network, which Cloudflare cannot reach`]
      : []),
  ];
  if (problems.length === 0) return undefined;
  return (
    `snake.websocket_url = "${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}": ` +
    `${problems.join("; ")}. Set it to the NATS cluster's websocket listener as Cloudflare reaches it, e.g. wss://nats.example.com:443`
  );
}
