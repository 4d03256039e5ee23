import type { LogLevel } from "../../../shared/config/index.ts";

const COLORS: Record<LogLevel, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const RESET = "\x1b[0m";

/**
 * One console line. On a terminal: local time, the level padded (coloured when `color`), the scope and the
 * message, for a person watching. Otherwise (a pipe, a journal): ISO time in UTC, level, scope, message, as
 * plain text that greps well.
 *
 * @example consoleLine(new Date(), "warn", "rack-1/parser", "bad frame", { tty: false, color: false })
 * // "2026-12-01T09:00:00.000Z warn rack-1/parser: bad frame\n"
 */
export function consoleLine(
  at: Date,
  level: LogLevel,
  scope: string,
  message: string,
  style: { tty: boolean; color: boolean },
): string {
  const where = scope ? `${scope}: ` : "";
  if (!style.tty) return `${at.toISOString()} ${level} ${where}${message}\n`;
  const time = `${at.toTimeString().slice(0, 8)}.${String(at.getMilliseconds()).padStart(3, "0")}`;
  const label = level.toUpperCase().padEnd(5);
  return `${time} ${style.color ? `${COLORS[level]}${label}${RESET}` : label} ${where}${message}\n`;
}
