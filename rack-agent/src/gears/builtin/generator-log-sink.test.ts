import { describe, expect, it } from "vitest";
import { sampleMessage, startGear } from "../gear-harness.ts";
import { generatorGear } from "./generator.ts";
import { logSinkGear } from "./log-sink.ts";

describe("generator", () => {
  it("emits count messages from the template, the same data on every run", async () => {
    const run = async () => {
      const gear = await startGear(generatorGear, { rate: 1000, count: 5, type: "payment", seed: 7 });
      for (let i = 0; i < 5; i++) await gear.next();
      await gear.stop();
      return gear.emitted.map((e) => e.msg);
    };
    const first = await run();
    expect(first.map((m) => (m.data as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.every((m) => m.type === "payment" && m.path.length === 1 && m.src.port === "out")).toBe(
      true,
    );
    const [a] = first;
    expect(a?.data).toMatchObject({
      amount: expect.any(Number),
      currency: expect.stringMatching(/^(EUR|USD|GBP)$/),
    });
    expect((await run()).map((m) => m.data)).toEqual(first.map((m) => m.data));
    expect(new Set(first.map((m) => m.id)).size).toBe(5);
  });
});

describe("log-sink", () => {
  it("logs each message at its level with the flux_id", async () => {
    const gear = await startGear(logSinkGear, { level: "warn" }, { name: "audit" });
    const msg = sampleMessage({ type: "card.auth", data: { amount: 3 } });
    await gear.send("in", msg);
    expect(gear.telemetry.logs).toEqual([
      {
        level: "warn",
        message: `card.auth ${msg.id}`,
        attributes: { gear_id: "audit", gear_type: "log-sink", type: "card.auth", data: { amount: 3 } },
        fluxId: msg.id,
      },
    ]);
    await gear.stop();
  });
});
