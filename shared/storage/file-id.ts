/** The ULIDs that name stored objects (flush objects, compaction passes, dead letters). */

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** A ULID in a regular expression (Crockford base 32, 26 characters). */
export const ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}";

/**
 * A ULID: 10 base-32 digits of the time in ms, then 80 random bits. Sorts by creation time and cannot
 * collide between flushes or between mixers without any shared counter.
 *
 * @example newFileId(Date.UTC(2025, 11, 21, 14)) // "01KD0KBFR0…" (26 characters)
 */
export function newFileId(
  nowMs: number = Date.now(),
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(10)),
): string {
  let time = "";
  for (let rest = nowMs, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  let bits = 0;
  let pending = 0;
  let tail = "";
  for (const byte of random) {
    bits = (bits << 8) | byte;
    pending += 8;
    while (pending >= 5) {
      pending -= 5;
      tail += CROCKFORD[(bits >> pending) & 31];
    }
    bits &= (1 << pending) - 1;
  }
  return time + tail;
}

/**
 * The time (epoch ms) a ULID was made at.
 *
 * @example fileIdTime(newFileId(1_766_325_600_000)) // 1_766_325_600_000
 */
export function fileIdTime(id: string): number {
  let ms = 0;
  for (const digit of id.slice(0, 10)) ms = ms * 32 + CROCKFORD.indexOf(digit);
  return ms;
}
