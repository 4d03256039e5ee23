import type { SPAN_STATUSES, SpanRecord } from "../../../shared/telemetry/records.ts";
import { isTraceSampled } from "./sampling.ts";
import { newSpanId, newTraceId } from "./trace-ids.ts";

/** What a child span (here or on another rack) needs from its parent. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  /** Whether the trace is kept; children inherit it so a trace is kept or dropped whole. */
  sampled: boolean;
}

export interface SpanOptions {
  /** The parent span's context; without `sampled` (e.g. ids received from elsewhere) the trace id decides. */
  parent?: Omit<SpanContext, "sampled"> & { sampled?: boolean };
  attributes?: Record<string, unknown>;
  fluxId?: string | null;
}

export interface SpanEndOptions {
  status?: (typeof SPAN_STATUSES)[number];
  attributes?: Record<string, unknown>;
}

/** A span in progress; `end()` records it (once) when its trace is sampled. */
export interface Span {
  readonly context: SpanContext;
  setAttributes(attributes: Record<string, unknown>): Span;
  end(options?: SpanEndOptions): Promise<void>;
}

/** A span's own fields; the telemetry client adds the record id and the entity. */
export type FinishedSpan = Omit<SpanRecord, "record_id" | "entity_id" | "entity_name">;

const RESOLVED = Promise.resolve();

/**
 * Starts a span now: a new trace unless `options.parent` is given, sampled by trace id at `samplingRate`
 * unless the parent already decided.
 *
 * @example
 * const span = startSpan("gear.process", { parent }, 1, (finished) => emit(finished));
 * await span.end({ status: "ok" });
 */
export function startSpan(
  name: string,
  options: SpanOptions,
  samplingRate: number,
  finish: (span: FinishedSpan) => Promise<void>,
): Span {
  const traceId = options.parent?.traceId ?? newTraceId();
  const context = {
    traceId,
    spanId: newSpanId(),
    sampled: options.parent?.sampled ?? isTraceSampled(traceId, samplingRate),
  };
  const startedAt = performance.now();
  const ts = Date.now();
  const attributes = { ...options.attributes };
  let ended = false;
  return {
    context,
    setAttributes(more) {
      Object.assign(attributes, more);
      return this;
    },
    end({ status = "ok", attributes: last } = {}) {
      if (ended || !context.sampled) {
        ended = true;
        return RESOLVED;
      }
      ended = true;
      return finish({
        ts,
        trace_id: traceId,
        span_id: context.spanId,
        parent_span_id: options.parent?.spanId ?? null,
        span_name: name,
        duration_ms: performance.now() - startedAt,
        status,
        attributes: { ...attributes, ...last },
        flux_id: options.fluxId ?? null,
      });
    },
  };
}
