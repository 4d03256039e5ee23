import { type IsolateMemoryReport, watchIsolateMemory } from "../isolate-memory.ts";
import { SCAN_BUDGET } from "./budget.ts";
import { ScanSlots } from "./scan-slots.ts";

const slots = new ScanSlots(SCAN_BUDGET.runningQueries, SCAN_BUDGET.waitingQueries, SCAN_BUDGET.waitMs);

/** A query let in: `done()` frees its slot and says what it cost the isolate's memory. */
export interface AdmittedQuery {
  done(): IsolateMemoryReport;
}

/** Why a query was not let in, for a 503 that tells the client when to come back. */
export interface BusyStore {
  busy: string;
  retryAfterSeconds: number;
}

/**
 * Lets a query read the store when one of the isolate's slots is free (or frees within a bound), so memory
 * holds however many requests arrive at once.
 *
 * @example
 * const admitted = await admitQuery();
 * if ("busy" in admitted) return tooBusy(admitted);
 * try { … } finally { report(admitted.done()); }
 */
export async function admitQuery(): Promise<AdmittedQuery | BusyStore> {
  const release = await slots.acquire();
  if (!release) {
    return {
      busy: `${slots.running} queries are reading the store in this isolate and ${slots.waiting} more are waiting (up to ${slots.waitMs / 1000} s each)`,
      retryAfterSeconds: Math.ceil(slots.waitMs / 1000 / 2),
    };
  }
  const watch = watchIsolateMemory();
  return {
    done() {
      release();
      return watch.done();
    },
  };
}
