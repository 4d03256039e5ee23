const encoder = new TextEncoder();

/**
 * Compares two secrets in time independent of where they differ: both are hashed first, so even their
 * lengths do not leak, then the digests are compared byte by byte without an early exit.
 *
 * @example await constantTimeEqual(presented, expected) // true or false
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const left = new Uint8Array(x);
  const right = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= (left[i] as number) ^ (right[i] as number);
  return diff === 0;
}
