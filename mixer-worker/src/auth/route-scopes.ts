import type { ApiScope } from "../../../shared/auth/api-scopes.ts";
import { pathPattern } from "../http/allowed-methods.ts";

/** One line of {@link ROUTE_SCOPES}: calls with one of `methods` on a path `path` matches need `scope`. */
interface RouteScope {
  scope: Exclude<ApiScope, "admin">;
  methods: readonly string[];
  /** Hono's syntax: `:name` is one segment, a final `*` anything below. */
  path: string;
}

const READ = ["GET", "HEAD"];
const V1 = "/api/v1";

/**
 * The one place that says what each API call needs. Anything not listed needs `admin`: a route added
 * without a line here is closed to narrower tokens, never open to them. Adding a route that `read` or
 * `operate` tokens should reach is one line.
 */
export const ROUTE_SCOPES: readonly RouteScope[] = [
  // Looking: telemetry, journaled messages, flux journeys, specs, scenarios, racks, the running config
  // (secrets masked there as everywhere).
  { scope: "read", methods: READ, path: `${V1}/telemetry/*` },
  { scope: "read", methods: READ, path: `${V1}/messages` },
  { scope: "read", methods: READ, path: `${V1}/messages/*` },
  { scope: "read", methods: READ, path: `${V1}/flux/*` },
  { scope: "read", methods: READ, path: `${V1}/specs` },
  { scope: "read", methods: READ, path: `${V1}/specs/*` },
  { scope: "read", methods: READ, path: `${V1}/scenarios` },
  { scope: "read", methods: READ, path: `${V1}/scenarios/:name` },
  { scope: "read", methods: READ, path: `${V1}/scenarios/:name/status` },
  { scope: "read", methods: READ, path: `${V1}/racks` },
  { scope: "read", methods: READ, path: `${V1}/racks/:id` },
  { scope: "read", methods: READ, path: `${V1}/config` },
  // Running the rig: adopting and pausing racks, importing and activating scenarios and specs. Revoking a
  // rack (final), its secrets and the tokens themselves stay admin's.
  { scope: "operate", methods: ["POST"], path: `${V1}/racks/:id/approve` },
  { scope: "operate", methods: ["POST"], path: `${V1}/racks/:id/suspend` },
  { scope: "operate", methods: ["POST"], path: `${V1}/scenarios` },
  { scope: "operate", methods: ["POST"], path: `${V1}/scenarios/:name/activate` },
  { scope: "operate", methods: ["POST"], path: `${V1}/specs` },
];

const compiled = ROUTE_SCOPES.map((line) => ({ ...line, pattern: pathPattern(line.path) }));

/**
 * The scope a call needs: the first line of {@link ROUTE_SCOPES} that matches, else `admin`.
 *
 * @example requiredScope("GET", "/api/v1/racks") // "read"
 */
export function requiredScope(method: string, path: string): ApiScope {
  const upper = method.toUpperCase();
  return compiled.find((line) => line.methods.includes(upper) && line.pattern.test(path))?.scope ?? "admin";
}
