import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("answers /health without a token", async () => {
  const res = await SELF.fetch("http://mixer/health");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: "ok" });
});
