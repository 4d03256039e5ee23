/** How one part of the mixer (the store, the bus) has fared: counted and kept, for /health. */
export interface PartHealthView {
  /** Failures since the bridge started. */
  failures: number;
  /** Failures since the last success: > 0 means the part is failing now. */
  consecutive_failures: number;
  last_error: string | null;
  last_failure_at: string | null;
  last_success_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Counts a part's successes and failures, keeping the last error (cut to 500 characters).
 *
 * @example const stored = await storeHealth.watch(storeRows(…));
 */
export class PartHealth {
  private failures = 0;
  private consecutive = 0;
  private lastError: string | null = null;
  private lastFailureAt: number | null = null;
  private lastSuccessAt: number | null = null;

  succeeded(now = Date.now()): void {
    this.consecutive = 0;
    this.lastSuccessAt = now;
  }

  failed(error: unknown, now = Date.now()): void {
    this.failures++;
    this.consecutive++;
    this.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    this.lastFailureAt = now;
  }

  /** Awaits `work`, counting how it ended; its error goes on to the caller. */
  async watch<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await work;
      this.succeeded();
      return result;
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  view(): PartHealthView {
    return {
      failures: this.failures,
      consecutive_failures: this.consecutive,
      last_error: this.lastError,
      last_failure_at: iso(this.lastFailureAt),
      last_success_at: iso(this.lastSuccessAt),
    };
  }
}
