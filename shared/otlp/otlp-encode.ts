import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import type { LogRecord, MetricRecord, RecordOf, SpanRecord, TelemetryKind } from "../telemetry/records.ts";

/**
 * Our telemetry records as OTLP export requests (protobuf), encoded by OpenTelemetry's own serializers
 * (`@opentelemetry/otlp-transformer`): we hand them objects shaped as the SDK's ReadableSpan, ReadableLogRecord
 * and ResourceMetrics, built from our records, so the wire format is the SDK's, not ours.
 */

/** Who emits: the resource every request carries. */
export interface OtlpEntity {
  id: string;
  name: string;
}

/** Which of our programs emits: the resource's `service.name` and the instrumentation scope's name. */
export type OtlpService = "fluxrig-rack" | "fluxrig-mixer";

/** The attribute carrying a record's flux_id (the business id), on spans and logs. */
export const FLUX_ID_ATTRIBUTE = "fluxrig.flux_id";

type HrTime = [number, number];
type Attributes = Record<string, unknown>;

/** The fields of the SDK objects the serializers read; the SDK's own types carry much more. */
interface Resource {
  attributes: Attributes;
  schemaUrl?: string;
}
interface Scope {
  name: string;
  version?: string;
}

/** The resource and scope every record of one emitter carries. */
export interface OtlpSource {
  resource: Resource;
  scope: Scope;
}

/**
 * The resource of a rack or the mixer: `service.name` (`fluxrig-rack`, `fluxrig-mixer`), `service.instance.id`
 * = its entity id (a rack's id, the mixer id), and its name; the scope is named after the service too.
 *
 * @example otlpSource({ id: rackId, name: "rack-nyc-01" }, "fluxrig-rack").resource.attributes["service.instance.id"] === rackId
 */
export function otlpSource(entity: OtlpEntity, service: OtlpService): OtlpSource {
  return {
    resource: {
      attributes: {
        "service.name": service,
        "service.instance.id": entity.id,
        "fluxrig.entity.name": entity.name,
        "host.name": entity.name,
      },
    },
    scope: { name: service },
  };
}

/** Our log levels as OTLP severity numbers (the first of each range). */
const SEVERITY: Record<LogRecord["level"], number> = { debug: 5, info: 9, warn: 13, error: 17 };
/** SpanKind.INTERNAL (the serializer adds one for the wire) and StatusCode OK / ERROR. */
const SPAN_KIND_INTERNAL = 0;
const STATUS_CODE: Record<SpanRecord["status"], number> = { ok: 1, error: 2 };
/** sdk-metrics' DataPointType, AggregationTemporality and the API's ValueType, by value. */
const DATA_POINT = { histogram: 0, gauge: 2, sum: 3 } as const;
const TEMPORALITY = { delta: 0, cumulative: 1 } as const;
const VALUE_TYPE_DOUBLE = 1;

function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1_000);
  return [seconds, Math.round((epochMs - seconds * 1_000) * 1_000_000)];
}

/** Attributes OTLP can carry: nested objects and null become JSON strings (OTLP's AnyValue has no null). */
function otlpAttributes(attributes: Attributes, fluxId: string | null): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    out[key] =
      typeof value === "object" && !(value instanceof Uint8Array) && !Array.isArray(value)
        ? JSON.stringify(value)
        : value;
  }
  if (fluxId !== null) out[FLUX_ID_ATTRIBUTE] = fluxId;
  return out;
}

function spans(records: readonly SpanRecord[], { resource, scope }: OtlpSource) {
  return records.map((record) => {
    const attributes = otlpAttributes(record.attributes, record.flux_id);
    const context = { traceId: record.trace_id, spanId: record.span_id, traceFlags: 1 };
    return {
      name: record.span_name,
      kind: SPAN_KIND_INTERNAL,
      spanContext: () => context,
      parentSpanContext:
        record.parent_span_id === null
          ? undefined
          : { traceId: record.trace_id, spanId: record.parent_span_id, traceFlags: 1 },
      startTime: hrTime(record.ts),
      endTime: hrTime(record.ts + record.duration_ms),
      status: { code: STATUS_CODE[record.status] },
      attributes,
      links: [],
      events: [],
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

function logs(records: readonly LogRecord[], { resource, scope }: OtlpSource) {
  return records.map((record) => ({
    hrTime: hrTime(record.ts),
    hrTimeObserved: hrTime(record.ts),
    severityNumber: SEVERITY[record.level],
    severityText: record.level.toUpperCase(),
    body: record.message,
    attributes: otlpAttributes(record.attributes, record.flux_id),
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
  }));
}

/**
 * One metric per record, in arrival order: a counter is a delta monotonic sum (a counter's point is what it
 * counted since the previous one: counter-deltas.ts), a gauge a gauge, a histogram observation a delta histogram of one value.
 */
function metrics(records: readonly MetricRecord[], { resource, scope }: OtlpSource) {
  const metricData = records.map((record) => {
    const time = hrTime(record.ts);
    const descriptor = { name: record.name, description: "", unit: "", valueType: VALUE_TYPE_DOUBLE };
    const point = { startTime: time, endTime: time, attributes: record.labels };
    if (record.type === "counter") {
      return {
        descriptor,
        dataPointType: DATA_POINT.sum,
        aggregationTemporality: TEMPORALITY.delta,
        isMonotonic: true,
        dataPoints: [{ ...point, value: record.value }],
      };
    }
    if (record.type === "gauge") {
      return {
        descriptor,
        dataPointType: DATA_POINT.gauge,
        aggregationTemporality: TEMPORALITY.cumulative,
        dataPoints: [{ ...point, value: record.value }],
      };
    }
    return {
      descriptor,
      dataPointType: DATA_POINT.histogram,
      aggregationTemporality: TEMPORALITY.delta,
      dataPoints: [
        {
          ...point,
          value: {
            count: 1,
            sum: record.value,
            min: record.value,
            max: record.value,
            buckets: { boundaries: [], counts: [1] },
          },
        },
      ],
    };
  });
  return { resource, scopeMetrics: [{ scope, metrics: metricData }] };
}

/**
 * Encodes records of one kind as the OTLP export request of their signal (ExportTraceServiceRequest,
 * ExportLogsServiceRequest or ExportMetricsServiceRequest).
 *
 * @example const body = encodeOtlpRequest("logs", [record], otlpSource(entity, "fluxrig-rack"));
 */
export function encodeOtlpRequest<K extends TelemetryKind>(
  kind: K,
  records: readonly RecordOf<K>[],
  source: OtlpSource,
): Uint8Array {
  // The serializers are typed with the SDK's classes; they read only the fields built above.
  type Serialize = (request: unknown) => Uint8Array | undefined;
  let encoded: Uint8Array | undefined;
  if (kind === "traces") {
    encoded = (ProtobufTraceSerializer.serializeRequest as Serialize)(
      spans(records as readonly SpanRecord[], source),
    );
  } else if (kind === "logs") {
    encoded = (ProtobufLogsSerializer.serializeRequest as Serialize)(
      logs(records as readonly LogRecord[], source),
    );
  } else {
    encoded = (ProtobufMetricsSerializer.serializeRequest as Serialize)(
      metrics(records as readonly MetricRecord[], source),
    );
  }
  if (!encoded)
    throw new Error(`OTLP: the ${kind} serializer produced nothing for ${records.length} record(s)`);
  return encoded;
}
