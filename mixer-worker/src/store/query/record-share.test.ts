import { describe, expect, it } from "vitest";
import { getDuckDb } from "../duckdb.ts";
import { recordShare } from "./sql.ts";

describe("passes by record id", () => {
  it("put every record in exactly one pass, the passes of about equal size", async () => {
    const db = await getDuckDb();
    const from = "(SELECT md5('record-' || i)::UUID AS record_id FROM range(0, 20000) r(i))";
    for (const of of [2, 4, 7]) {
      const sizes = Array.from({ length: of }, (_, index) =>
        Number(db.query(`SELECT count(*)::INTEGER AS n FROM ${from} WHERE ${recordShare(of, index)}`)[0]?.n),
      );
      expect(sizes.reduce((sum, n) => sum + n, 0)).toBe(20_000);
      // `hash() % 4` bound as a DOUBLE modulo put 99.9% of them in pass 0.
      for (const size of sizes) expect(size).toBeGreaterThan((20_000 / of) * 0.8);
    }
  }, 120_000);
});
