import { CONTROL_PREFIX, DEAD_LETTER_FILTER, JOURNAL_FILTER, TELEMETRY_FILTER } from "./subjects.ts";

/** A NATS subject is short in practice; this bounds what a config can ask the server to match. */
const MAX_SUBJECT_LENGTH = 255;

/**
 * Subjects the business stream must leave alone, and why. A stream on a control subject would store each
 * request and answer it with a publish ack, racing the mixer's real answer; the telemetry stream already
 * owns its subjects (JetStream lets one stream capture a subject); replies travel on `_INBOX.>`.
 */
const RESERVED: readonly { filter: string; what: string }[] = [
  {
    filter: `${CONTROL_PREFIX}.>`,
    what: "the control plane (enrollment, heartbeats and passports are request/reply on core NATS)",
  },
  { filter: TELEMETRY_FILTER, what: "telemetry, which the telemetry stream captures" },
  { filter: JOURNAL_FILTER, what: "journal records, which the telemetry stream captures" },
  { filter: DEAD_LETTER_FILTER, what: "dead letters, which the telemetry stream captures" },
  { filter: "_INBOX.>", what: "request replies" },
];

/** Whether some subject matches both patterns (`*` is one token, `>` one or more at the end). */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === ">") return y.length > i;
    if (q === ">") return x.length > i;
    if (p === undefined || q === undefined) return p === q;
    if (p !== "*" && q !== "*" && p !== q) return false;
  }
}

/** Why `subject` is not a valid NATS subject or pattern, or undefined when it is. */
export function subjectSyntaxProblem(subject: string): string | undefined {
  if (subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH)
    return `a subject has 1 to ${MAX_SUBJECT_LENGTH} characters`;
  // Whitespace and control characters end a subject in the NATS protocol.
  if (/[\s\p{Cc}]/u.test(subject)) return "a subject has no spaces or control characters";
  const tokens = subject.split(".");
  if (tokens.some((token) => token === ""))
    return 'a subject has no empty token (no leading, trailing or doubled ".")';
  if (tokens.some((token) => token.length > 1 && /[*>]/.test(token)))
    return '"*" and ">" are wildcards only as a whole token';
  if (tokens.slice(0, -1).includes(">")) return '">" may only be the last token';
  return undefined;
}

/**
 * Why the business stream may not capture `pattern` (`snake.stream_subjects`), or undefined when it may: it
 * must be a valid subject, must not start with `$` (the server's own API: `$JS`, `$SYS`, `$KV`…), and must
 * not overlap a reserved subject. A catch-all such as `>` or `*.>` overlaps the control plane.
 * The config schema checks this when loading, and stream creation checks it again.
 *
 * @example streamSubjectProblem("flux.>") // "it would capture flux.ctl.>: the control plane (…)"
 */
export function streamSubjectProblem(pattern: string): string | undefined {
  const syntax = subjectSyntaxProblem(pattern);
  if (syntax) return `not a valid NATS subject: ${syntax}`;
  if (pattern.startsWith("$")) return "subjects starting with $ belong to the NATS server's own API";
  const reserved = RESERVED.find(({ filter }) => subjectsOverlap(pattern, filter));
  return reserved ? `it would capture ${reserved.filter}: ${reserved.what}` : undefined;
}
