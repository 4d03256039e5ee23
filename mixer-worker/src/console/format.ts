/** How the console writes times and durations: short, and the same on every page. */

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago" from an ISO time. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** "0.42 ms", "12.3 ms", "1.20 s". */
export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** "2026-11-30 16:25:38.123" (UTC) from an ISO time: sortable, and the zone is in the page header. */
export const clock = (iso: string) => iso.replace("T", " ").replace("Z", "");
