/**
 * Lays rows out in columns two spaces apart, each as wide as its widest cell; trailing blanks trimmed.
 * `paint` may colour a cell after its width is counted, so escape codes never skew the columns.
 *
 * @example textTable([["ID", "NAME"], ["1", "rack-a"]]) // "ID  NAME\n1   rack-a\n"
 */
export function textTable(
  rows: readonly (readonly string[])[],
  paint: (text: string, row: number, column: number) => string = (text) => text,
): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => [...(row[i] ?? "")].length))) ?? [];
  return rows
    .map((row, r) => {
      const cells = row.map((cell, i) => {
        const padded = i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - [...cell].length);
        return paint(padded, r, i);
      });
      return `${cells.join("  ").trimEnd()}\n`;
    })
    .join("");
}
