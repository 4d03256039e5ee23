/**
 * Counters are stored as deltas: each point is what its series counted since its producer's previous point.
 * So a time bucket's `sum` is what was counted within it, whatever the number of producers (racks, Worker
 * isolates) and however often they restart, and a rollup of a bucket is the sum of its points. Producers that
 * keep running totals (a gear's messages, a lane's acks, the bridge's records stored) report them through
 * this, which remembers each series' last total.
 *
 * @example
 * const deltas = new CounterDeltas();
 * deltas.increase("fluxrig.gear.messages_in|gen", 120); // 120
 * deltas.increase("fluxrig.gear.messages_in|gen", 150); // 30
 * deltas.increase("fluxrig.gear.messages_in|gen", 4); // 4: the total went down, so it started again
 */
export class CounterDeltas {
  readonly #last = new Map<string, number>();

  /** What `total` grew by since the last total of `series`: all of it the first time and after a reset. */
  increase(series: string, total: number): number {
    const last = this.#last.get(series) ?? 0;
    this.#last.set(series, total);
    return total >= last ? total - last : total;
  }
}

/** A series' key for {@link CounterDeltas}: its name and its labels in a stable order. */
export function counterSeries(name: string, labels: Record<string, string> = {}): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key]]);
  return JSON.stringify([name, sorted]);
}
