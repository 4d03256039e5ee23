import { setTimeout as sleep } from "node:timers/promises";
import type { FluxData } from "../../../../shared/fluxmsg/message.ts";
import { httpOutGearType } from "../../../../shared/gears/http-out.ts";
import { defineGear } from "../gear.ts";

/** Worth another attempt: the server is overloaded or failing, not refusing the request. */
const retryable = (status: number) => status === 429 || status >= 500;

async function readBody(response: Response): Promise<FluxData> {
  const text = await response.text();
  if (!(response.headers.get("content-type") ?? "").includes("json")) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * `http-out`: sends `data` as JSON (with the message's traceparent, so the server joins the trace) and
 * emits the answer on `response` as `{ status, body }`; network errors, timeouts, 429 and 5xx are retried
 * `retries` times with doubling pauses. A message that never got an answer throws, and is dead-lettered.
 */
export const httpOutGear = defineGear(httpOutGearType, (ctx) => {
  const { url, method, headers, timeout, retries, backoff } = ctx.config;
  const stopping = new AbortController();
  return {
    async process(msg) {
      let failure: unknown;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await sleep(backoff * 2 ** (attempt - 1), undefined, { signal: stopping.signal });
        try {
          const response = await fetch(url, {
            method,
            headers: { "content-type": "application/json", ...headers, traceparent: msg.trace },
            body: JSON.stringify(msg.data),
            signal: AbortSignal.any([AbortSignal.timeout(timeout), stopping.signal]),
          });
          const body = await readBody(response);
          if (retryable(response.status) && attempt < retries) {
            failure = new Error(`${method} ${url} answered ${response.status}`);
            continue;
          }
          await ctx.emit("response", {
            ...msg,
            type: "http.response",
            data: { status: response.status, body },
            meta: { ...msg.meta, "http.status": String(response.status) },
          });
          return;
        } catch (error) {
          if (stopping.signal.aborted) throw error;
          failure = error;
        }
      }
      throw new Error(
        `${method} ${url} failed after ${retries + 1} attempts: ${(failure as Error).message}`,
        {
          cause: failure,
        },
      );
    },
    stop() {
      stopping.abort(new Error("the gear is stopping"));
    },
  };
});
