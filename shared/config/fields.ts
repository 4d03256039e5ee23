import * as z from "zod";
import { streamSubjectProblem } from "../fluxmsg/stream-subjects.ts";
import {
  ENTITY_NAME_ALLOWED,
  ENTITY_NAME_MAX,
  hasEntityNameChars,
  isEntityName,
} from "../telemetry/entity-name.ts";
import { durationSchema, parseDuration } from "./duration.ts";
import { sizeSchema } from "./size.ts";
import { type UrlRule, urlAllowed, urlProblem } from "./url-rule.ts";

/**
 * Field builders so each section reads like the reference table it mirrors. Every builder bounds its value:
 * a config is written by hand, but may also be written by someone probing for a crash, a hang or a leak.
 * Refusal messages never quote the value; the loader adds it, masked where it must be.
 */

/** Paths and free text: a path is at most 4096 bytes on Linux, and no setting needs a control character. */
const TEXT_MAX = 4_096;
const CONTROL = /\p{Cc}/u;

function isPlainText(text: string, max: number): boolean {
  return text.length <= max && !CONTROL.test(text);
}

const plainText = () =>
  z.string().refine((text) => isPlainText(text, TEXT_MAX), {
    message: `expected at most ${TEXT_MAX} characters, without control characters`,
  });

export const str = (fallback: string, description?: string) =>
  plainText()
    .default(fallback)
    .meta(description ? { description } : {});
/** A whole number between `min` and `max`: every count has a bound, so none can exhaust memory or wrap. */
export const int = (fallback: number, min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine(Number.isInteger, { message: "expected a whole number" })
    .meta({ kind: "int" })
    .default(fallback);
/** A finite number between `min` and `max` (zod refuses NaN and Infinity, which TOML can write). */
export const num = (fallback: number, min: number, max: number) =>
  z.number().min(min).max(max).default(fallback);
export const bool = (fallback: boolean) => z.boolean().default(fallback);
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.enum(values).default(fallback as never);

/**
 * Most durations arm a timer, and Node's timers fire at once past 2^31-1 ms (about 24.8 days): a day is the
 * default ceiling, well clear of it. Fields that are not timers (a stream's max age) give their own.
 */
const TIMER_MAX = "24h";

/**
 * Durations are written as strings ("15s") and parse to milliseconds; the default goes through the parser
 * too. `min` keeps out values that would spin a loop or a timer (a "0s" flush interval), `max` values that
 * overflow one.
 */
export const duration = (fallback: string, min = "0ms", max = TIMER_MAX) => {
  const [floor, ceiling] = [min, max].map((text) => (parseDuration(text) as { ms: number }).ms) as [
    number,
    number,
  ];
  return durationSchema
    .refine((ms) => ms >= floor && ms <= ceiling, { message: `expected a duration from ${min} to ${max}` })
    .meta({ kind: "duration" })
    .prefault(fallback);
};
/** Sizes are bytes, or strings with a unit ("2MiB"), between `min` and `max` bytes. */
export const size = (fallback: number, min: number, max: number) =>
  sizeSchema
    .refine((bytes) => bytes >= min && bytes <= max, { message: `expected between ${min} and ${max} bytes` })
    .meta({ kind: "size" })
    .prefault(fallback);
export const port = (fallback: number) => int(fallback, 1, 65_535);

/** A URL checked against `rule` (schemes, host:port, empty); credentials in it are masked wherever shown. */
export const url = (fallback: string, rule: UrlRule, description: string) =>
  z
    .string()
    .superRefine((text, ctx) => {
      const problem = urlProblem(text, rule);
      if (problem) ctx.addIssue({ code: "custom", message: `expected ${urlAllowed(rule)}: ${problem}` });
    })
    .default(fallback)
    .meta({ kind: "url", description });

/**
 * A rack's or mixer's name, by the rule telemetry records hold entity names to (so what the config accepts,
 * ingest accepts). `""` asks for a generated name.
 */
export const entityName = (fallback: string, description: string) =>
  z
    .string()
    .refine((text) => text === "" || isEntityName(text), {
      message: `expected ${ENTITY_NAME_ALLOWED}, or "" for a generated name`,
    })
    .default(fallback)
    .meta({ description });
/** The start of a generated name: the entity-name rule, leaving room for the six hex digits added to it. */
export const entityNamePrefix = (fallback: string, description: string) => {
  const max = ENTITY_NAME_MAX - 6;
  return z
    .string()
    .refine((text) => text.length <= max && hasEntityNameChars(text), {
      message: `expected at most ${max} letters, digits, ".", "_" or "-" (six hex digits are added)`,
    })
    .default(fallback)
    .meta({ description });
};
/** A JetStream stream or domain name: the entity-name rule without dots, as NATS uses it as one subject token. */
export const busName = (fallback: string, description: string) =>
  z
    .string()
    .refine((text) => isEntityName(text) && !text.includes("."), {
      message: `expected 1 to ${ENTITY_NAME_MAX} letters, digits, "_" or "-" (one subject token: no dots)`,
    })
    .default(fallback)
    .meta({ description });

/** The subjects a stream captures: valid NATS subjects, none of them the control plane's or telemetry's. */
export const streamSubjects = (fallback: string[]) =>
  z
    .array(z.string())
    .min(1)
    .max(64)
    .superRefine((subjects, ctx) => {
      for (const [i, subject] of subjects.entries()) {
        const problem = streamSubjectProblem(subject);
        if (problem) ctx.addIssue({ code: "custom", path: [i], message: `entry ${i + 1}: ${problem}` });
      }
    })
    .default(fallback);

/**
 * A table of string values whose names match `name` and whose values are plain text of at most `valueMax`
 * characters, at most 64 of them. Refusals name the entry, never its value.
 */
export const stringMap = (
  rule: { name: (name: string) => boolean; nameAllowed: string; valueMax: number },
  description: string,
) =>
  z
    .record(z.string(), z.string())
    .superRefine((map, ctx) => {
      const names = Object.keys(map);
      if (names.length > 64) ctx.addIssue({ code: "custom", message: "expected at most 64 entries" });
      for (const name of names.slice(0, 64)) {
        if (!rule.name(name))
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `entry ${JSON.stringify(name)}: its name is not ${rule.nameAllowed}`,
          });
        else if (!isPlainText(map[name] as string, rule.valueMax))
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `entry ${JSON.stringify(name)}: expected a value of at most ${rule.valueMax} characters, without control characters`,
          });
      }
    })
    .default({})
    .meta({ description });

/** An IP address, or `""` for the one the system picks. */
export const ipAddress = (description: string) =>
  z
    .string()
    .refine((text) => text === "" || z.ipv4().safeParse(text).success || z.ipv6().safeParse(text).success, {
      message: 'expected an IPv4 or IPv6 address, or "" to detect the primary one',
    })
    .default("")
    .meta({ description });

/**
 * A value that must never live in TOML: it comes from the environment (or the passport) only. Bounded like
 * text, so a token read from a file with a stray CR is refused (without quoting it) rather than never matching.
 */
export const secret = (description: string) => plainText().optional().meta({ secret: true, description });
/** A section; its defaults are filled in by parsing an empty table. */
export const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape).prefault({} as never);
