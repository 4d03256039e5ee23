import { describe, expect, it } from "vitest";
import { sampleMessage, startGear } from "../gear-harness.ts";
import { routerGear } from "./router.ts";
import { transformGear } from "./transform.ts";

describe("transform", () => {
  it("sets, copies, renames and deletes by dotted path, without changing its input", async () => {
    const gear = await startGear(transformGear, {
      ops: [
        { set: "data.card.scheme", value: "visa" },
        { copy: "data.pan", to: "meta.pan" },
        { rename: "data.amt", to: "data.amount" },
        { delete: "data.track2" },
        { set: "type", value: "card.auth" },
        { copy: "data.missing", to: "data.other" },
      ],
    });
    const input = sampleMessage({ data: { pan: "4111", amt: 12.5, track2: "x", card: { bin: "411111" } } });
    await gear.send("in", input);
    const out = gear.emitted[0]?.msg;
    expect(out?.data).toEqual({ pan: "4111", amount: 12.5, card: { bin: "411111", scheme: "visa" } });
    expect(out?.meta.pan).toBe("4111");
    expect(out?.type).toBe("card.auth");
    expect(input.data).toEqual({ pan: "4111", amt: 12.5, track2: "x", card: { bin: "411111" } });
    await gear.stop();
  });
});

describe("router", () => {
  const config = {
    routes: [
      { to: "decline", when: [{ field: "data.amount", gt: 1000 }] },
      { to: "decline", when: [{ field: "data.pan", matches: "^4000" }] },
      {
        to: "review",
        when: [
          { field: "data.country", in: ["KP", "IR"] },
          { field: "meta.channel", eq: "web" },
        ],
      },
      {
        to: "approve",
        when: [
          { field: "data.currency", ne: "XXX" },
          { field: "data.pan", exists: true },
          { field: "data.amount", lt: 500 },
        ],
      },
    ],
  };
  it.each([
    [{ amount: 5000, pan: "4111" }, {}, "decline"],
    [{ amount: 5, pan: "4000123" }, {}, "decline"],
    [{ amount: 5, pan: "4111", country: "KP" }, { channel: "web" }, "review"],
    [{ amount: 5, pan: "4111", country: "KP" }, { channel: "pos" }, "approve"],
    [{ amount: 5, pan: "4111", currency: "XXX" }, {}, "default"],
    [{ amount: 700, pan: "4111" }, {}, "default"],
    [{ amount: "5", pan: "4111" }, {}, "default"],
  ])("%j with meta %j goes to %s", async (data, meta, port) => {
    const gear = await startGear(routerGear, config);
    await gear.send("in", sampleMessage({ data, meta }));
    expect(gear.emitted.map((e) => e.port)).toEqual([port]);
    await gear.stop();
  });
});
