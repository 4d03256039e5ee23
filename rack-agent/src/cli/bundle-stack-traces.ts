import { readFileSync } from "node:fs";
import { SourceMap, type SourceOrigin } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Makes stack traces through the minified bundle at `bundleUrl` name the TypeScript file and line, from the source
 * map beside it (`<bundle>.map`), read only when a stack is formatted.
 *
 * `node --enable-source-maps` parses the whole map when the bundle loads (about 10 MiB of RSS for as long as the
 * agent runs, bench:rack) and decodes it on the first stack read (26 MiB more). Here an idle rack pays nothing;
 * the decoded map is held weakly, so the garbage collector takes it back once stacks stop being formatted. Does
 * nothing when Node already maps stacks (`--enable-source-maps`, or tsx running the sources).
 *
 * @example mapBundleStackTraces(import.meta.url); // first thing in the bundle's entry
 */
export function mapBundleStackTraces(bundleUrl: string): void {
  if (process.sourceMapsEnabled) return;
  let held: WeakRef<SourceMap> | undefined;
  let missing = false;
  const sourceMap = (): SourceMap | undefined => {
    let map = held?.deref();
    if (map || missing) return map;
    const mapUrl = `${bundleUrl}.map`;
    try {
      const payload = JSON.parse(readFileSync(fileURLToPath(mapUrl), "utf8")) as { sources: string[] };
      // Node's own mapping names sources as URLs resolved against the map's; so does this one.
      payload.sources = payload.sources.map((source) => new URL(source, mapUrl).href);
      map = new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      missing = true; // no map shipped (or unreadable): the bundle's own file:line it is
      return undefined;
    }
    held = new WeakRef(map);
    return map;
  };
  Error.prepareStackTrace = (error, frames) => {
    const lines = frames.map((frame) => {
      const line = frame.getLineNumber();
      const column = frame.getColumnNumber();
      const map = frame.getFileName() === bundleUrl ? sourceMap() : undefined;
      // `{}` where the map has no entry.
      const origin: Partial<SourceOrigin> | undefined =
        map && line !== null && column !== null ? map.findOrigin(line, column) : undefined;
      if (!origin?.fileName) return `    at ${frame}`;
      const where = `${origin.fileName}:${origin.lineNumber}:${origin.columnNumber}`;
      const name = origin.name ?? frame.getFunctionName();
      return name ? `    at ${name} (${where})` : `    at ${where}`;
    });
    return [`${error}`, ...lines].join("\n");
  };
}
