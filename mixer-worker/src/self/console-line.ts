import type { LogLevel } from "../../../shared/config/sections.ts";

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** The isolate's `logging.level`, set when its config is loaded (mixerConfig); info until then. */
let configured: LogLevel = "info";

/** Sets the level every console line of this isolate is held to (from `logging.level`). */
export function setConsoleLevel(level: LogLevel): void {
  configured = level;
}

/**
 * Whether a line of `level` passes `configured` (trace passes under trace only).
 *
 * @example levelEnabled("info", "debug") // false
 */
export function levelEnabled(threshold: LogLevel, level: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/**
 * Prints one console line of the mixer if the isolate's `logging.level` lets it through: the one way the
 * Worker writes to its console, so every line honours the level. Returns whether it printed.
 *
 * @example consoleLine("warn", `snake bridge: dead-lettered a message from ${subject}`);
 */
export function consoleLine(level: LogLevel, text: string, threshold: LogLevel = configured): boolean {
  if (!levelEnabled(threshold, level)) return false;
  if (level === "error") console.error(text);
  else if (level === "warn") console.warn(text);
  else console.log(text);
  return true;
}
