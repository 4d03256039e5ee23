import {
  JetStreamApiError,
  type JetStreamManager,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import type { MixerConfig } from "../config/index.ts";
import { streamSubjectProblem } from "../fluxmsg/stream-subjects.ts";
import {
  DEAD_LETTER_FILTER,
  JOURNAL_FILTER,
  TELEMETRY_FILTER,
  TELEMETRY_STREAM,
} from "../fluxmsg/subjects.ts";

/** Every dead-letter subject, which the telemetry stream keeps; defined beside the other subject names. */
export { DEAD_LETTER_FILTER };

/** The `[snake]` fields that shape the streams. Durations are milliseconds, as the config loader gives them. */
export type SnakeStreamSettings = Pick<
  MixerConfig["snake"],
  "stream_name" | "stream_subjects" | "business_stream_max_age" | "telemetry_stream_max_age" | "durable"
>;

/** One stream we own. */
export interface StreamSpec {
  name: string;
  subjects: string[];
  maxAgeMs: number;
  storage: StorageType;
}

/** JetStream's code for "subjects overlap with an existing stream". */
const SUBJECTS_OVERLAP = 10065;
/** JetStream's code for "stream not found". */
const STREAM_NOT_FOUND = 10059;

/**
 * The business and telemetry streams as `[snake]` asks for them: file storage when `durable`, memory
 * otherwise.
 *
 * @example
 * const [business, telemetry] = snakeStreamSpecs(mixerConfig.snake);
 */
export function snakeStreamSpecs(
  settings: SnakeStreamSettings,
): [business: StreamSpec, telemetry: StreamSpec] {
  assertStreamSubjects(settings.stream_subjects);
  const storage = settings.durable ? StorageType.File : StorageType.Memory;
  return [
    {
      name: settings.stream_name,
      subjects: [...settings.stream_subjects],
      maxAgeMs: settings.business_stream_max_age,
      storage,
    },
    {
      name: TELEMETRY_STREAM,
      // Journal records ride with telemetry (same max age and storage); the mixer reads them with its own consumer.
      subjects: [TELEMETRY_FILTER, JOURNAL_FILTER, DEAD_LETTER_FILTER],
      maxAgeMs: settings.telemetry_stream_max_age,
      storage,
    },
  ];
}

/**
 * The config loader refuses these already; settings built another way (a test, a future caller) get the same
 * check, as a stream capturing the control plane would break enrollment and heartbeats.
 */
function assertStreamSubjects(subjects: readonly string[]): void {
  for (const pattern of subjects) {
    const problem = streamSubjectProblem(pattern);
    if (problem) throw new Error(`snake.stream_subjects entry "${pattern}": ${problem}`);
  }
}

/**
 * Creates the business and telemetry streams, or updates their subjects and max age when the config
 * changed. Running it again with the same settings changes nothing. Throws an error naming the other
 * stream and the config key when subjects overlap, and when `snake.durable` would change an existing
 * stream's storage (JetStream cannot do that in place).
 *
 * @example
 * const jsm = await jetstreamManager(nc, { domain: config.snake.domain });
 * const { business, telemetry } = await ensureStreams(jsm, config.snake);
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  settings: SnakeStreamSettings,
): Promise<{ business: StreamInfo; telemetry: StreamInfo }> {
  const [business, telemetry] = snakeStreamSpecs(settings);
  return { business: await ensureStream(jsm, business), telemetry: await ensureStream(jsm, telemetry) };
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  const wanted = { subjects: spec.subjects, max_age: nanos(spec.maxAgeMs) } satisfies Partial<StreamConfig>;
  const existing = await jsm.streams.info(spec.name).catch((error: unknown) => {
    if (apiCode(error) === STREAM_NOT_FOUND) return null;
    throw error;
  });
  try {
    if (!existing) return await jsm.streams.add({ name: spec.name, storage: spec.storage, ...wanted });
    if (existing.config.storage !== spec.storage) {
      throw new Error(
        `stream "${spec.name}" exists with ${existing.config.storage} storage but snake.durable asks for ` +
          `${spec.storage}; JetStream cannot change a stream's storage: set snake.durable back, or delete ` +
          `the stream (its messages are lost) and start again`,
      );
    }
    if (
      sameSubjects(existing.config.subjects ?? [], spec.subjects) &&
      existing.config.max_age === wanted.max_age
    ) {
      return existing;
    }
    return await jsm.streams.update(spec.name, wanted);
  } catch (error) {
    if (apiCode(error) === SUBJECTS_OVERLAP) throw await overlapError(jsm, spec, error);
    throw error;
  }
}

async function overlapError(jsm: JetStreamManager, spec: StreamSpec, cause: unknown): Promise<Error> {
  const others = new Set<string>();
  for (const subject of spec.subjects) {
    for await (const name of jsm.streams.names(subject)) if (name !== spec.name) others.add(name);
  }
  const described = await Promise.all(
    [...others].map(async (name) => {
      const subjects = (await jsm.streams.info(name)).config.subjects ?? [];
      return `"${name}" (subjects ${subjects.join(", ")})`;
    }),
  );
  const culprits = described.join(" and ") || "another stream";
  return new Error(
    `cannot create or update stream "${spec.name}" with subjects ${spec.subjects.join(", ")}: they overlap ` +
      `${culprits}, and JetStream lets only one stream capture a subject; change snake.stream_subjects or ` +
      "remove the other stream",
    { cause },
  );
}

function sameSubjects(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((subject) => b.includes(subject));
}

function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}
