const BARS = "▁▂▃▄▅▆▇█";

/**
 * A compact text chart: one bar per value, scaled from the smallest to the largest; a gap (undefined) is a
 * blank. More values than `width` are merged (averaged) into `width` bars.
 *
 * @example sparkline([1, 2, undefined, 8]) // "▁▂ █"
 */
export function sparkline(values: readonly (number | undefined)[], width = 60): string {
  const columns = merge(values, width);
  const present = columns.filter((value): value is number => value !== undefined);
  if (present.length === 0) return "";
  const low = Math.min(...present);
  const span = Math.max(...present) - low;
  return columns
    .map((value) => {
      if (value === undefined) return " ";
      // A flat series sits in the middle rather than looking like zero.
      const level = span === 0 ? 3 : Math.round(((value - low) / span) * (BARS.length - 1));
      return BARS[level];
    })
    .join("");
}

function merge(values: readonly (number | undefined)[], width: number): (number | undefined)[] {
  if (values.length <= width) return [...values];
  return Array.from({ length: width }, (_, i) => {
    const slice = values
      .slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width))
      .filter((value): value is number => value !== undefined);
    return slice.length ? slice.reduce((sum, value) => sum + value, 0) / slice.length : undefined;
  });
}
