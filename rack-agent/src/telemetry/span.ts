import { merge } from "../../../shared/object/merge.ts";
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
  /** Read when the span ends: not copied at the start, so callers may share one object between spans. */
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
 * unless the parent already decided. A span of an unsampled trace is never recorded, so it makes no record,
 * reads no clock, and keeps its parent's ids when it has a parent (W3C lets a participant pass the parent id
 * on): a hot lane then hands the message on unchanged.
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
  const { parent } = options;
  const traceId = parent?.traceId ?? newTraceId();
  const sampled = parent?.sampled ?? isTraceSampled(traceId, samplingRate);
  if (!sampled) return new UnsampledSpan({ traceId, spanId: parent?.spanId ?? newSpanId(), sampled });
  return new SampledSpan(name, { traceId, spanId: newSpanId(), sampled }, options, finish);
}

class UnsampledSpan implements Span {
  constructor(readonly context: SpanContext) {}

  setAttributes(): Span {
    return this;
  }

  end(): Promise<void> {
    return RESOLVED;
  }
}

/** A class rather than closures: one object per span, on every hop of a sampled message. */
class SampledSpan implements Span {
  readonly #startedAt = performance.now();
  readonly #ts = Date.now();
  /** Attributes set after the start, merged over the options' ones when the span ends. */
  #added: Record<string, unknown> | undefined;
  #ended = false;

  constructor(
    readonly name: string,
    readonly context: SpanContext,
    readonly options: SpanOptions,
    readonly finish: (span: FinishedSpan) => Promise<void>,
  ) {}

  setAttributes(attributes: Record<string, unknown>): Span {
    this.#added = merge(this.#added, attributes);
    return this;
  }

  end({ status = "ok", attributes: last }: SpanEndOptions = {}): Promise<void> {
    if (this.#ended) return RESOLVED;
    this.#ended = true;
    const { options, context } = this;
    return this.finish({
      ts: this.#ts,
      trace_id: context.traceId,
      span_id: context.spanId,
      parent_span_id: options.parent?.spanId ?? null,
      span_name: this.name,
      duration_ms: performance.now() - this.#startedAt,
      status,
      attributes: merge(options.attributes, this.#added, last),
      flux_id: options.fluxId ?? null,
    });
  }
}
