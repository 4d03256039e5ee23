/** A registered route as Hono lists it in `app.routes`. */
export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Hono's `:name` (optionally `{regex}`) and `*` path segments as a regular expression.
 *
 * @example pathPattern("/api/v1/racks/:id").test("/api/v1/racks/r1") // true
 */
export function pathPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/**
 * The methods some route other than a catch-all middleware answers `path` with, for a 405 and its `Allow`
 * header instead of a 404 that would hide that the resource exists. `HEAD` comes with `GET`, as Hono serves it.
 *
 * @example allowedMethods(app.routes, "/api/v1/scenarios") // ["GET", "HEAD", "POST"]
 */
export function allowedMethods(routes: readonly RouteEntry[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.endsWith("*")) continue;
    if (pathPattern(route.path).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
