import type { MiddlewareHandler } from "hono";
import type { MixerBindings } from "../env.ts";
import { admitQuery, type IsolateMemoryReport } from "../store/index.ts";
import { problemResponse } from "./problem.ts";

/** The response header that says what a query cost the isolate's memory (bytes; see IsolateMemoryReport). */
export const ISOLATE_MEMORY_HEADER = "fluxrig-isolate-memory";

/**
 * The header's value.
 *
 * @example isolateMemoryHeader({ wasm: 1, wasmGrowth: 0, heldPeak: 2, peak: 3 }) // "wasm=1, wasm_growth=0, held_peak=2, peak=3"
 */
export const isolateMemoryHeader = (report: IsolateMemoryReport): string =>
  `wasm=${report.wasm}, wasm_growth=${report.wasmGrowth}, held_peak=${report.heldPeak}, peak=${report.peak}`;

/**
 * Lets a query route run only when the isolate has a free query slot (or one frees within a bound), else
 * answers 503 problem+json with `Retry-After`; the answer carries {@link ISOLATE_MEMORY_HEADER}.
 *
 * @example new Hono().get("/logs", queryAdmission(), handler)
 */
export function queryAdmission(): MiddlewareHandler<MixerBindings> {
  return async function queryAdmission(c, next) {
    const admitted = await admitQuery();
    if ("busy" in admitted) {
      return problemResponse(
        c,
        {
          title: "Service Unavailable",
          status: 503,
          detail: `${admitted.busy}: retry after ${admitted.retryAfterSeconds} s`,
        },
        { "retry-after": String(admitted.retryAfterSeconds) },
      );
    }
    try {
      await next();
    } finally {
      c.header(ISOLATE_MEMORY_HEADER, isolateMemoryHeader(admitted.done()));
    }
  };
}
