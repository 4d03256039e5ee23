import { describe, expect, it } from "vitest";
import { redactUrl, redactUrls } from "./url-credentials.ts";

describe("redactUrl", () => {
  it.each([
    ["nats://user:SECRET@nats:4222", "nats://***@nats:4222"],
    ["wss://SECRET@nats:443/", "wss://***@nats:443/"],
    [
      "https://otel:4318/v1/traces?token=SECRET&team=SECRET",
      "https://otel:4318/v1/traces?token=***&team=***",
    ],
    ["https://u:SECRET@otel/v1?SECRET", "https://***@otel/v1?***"],
    ["http://otel/#access_token=SECRET", "http://otel/#***"],
    // An unencoded @ / ? in the password: the userinfo runs to the last @.
    ["nats://user:p@ss/SECRET@nats:4222", "nats://***@nats:4222"],
    ["nats://user:pa?SECRET@nats:4222", "nats://***"],
    ["nats://user:pa SECRET@nats:4222", "nats://***@nats:4222"],
    ["user:SECRET@otel:4317", "***@otel:4317"],
    ["nats://nats:4222", "nats://nats:4222"],
    ["127.0.0.1:4317", "127.0.0.1:4317"],
    ["ops@example.com", "ops@example.com"],
    ["", ""],
  ])("%s → %s", (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe("redactUrls", () => {
  it("masks every URL in a line and leaves the rest", () => {
    expect(
      redactUrls('cannot reach ws://a:SECRET@h:1 (then "nats://b:SECRET@h:2/?jwt=SECRET"): refused'),
    ).toBe('cannot reach ws://***@h:1 (then "nats://***@h:2/?jwt=***"): refused');
  });

  it("masks user:password@ without a scheme, not an e-mail address", () => {
    expect(redactUrls("endpoint user:SECRET@otel:4317, owner ops@example.com")).toBe(
      "endpoint ***@otel:4317, owner ops@example.com",
    );
  });

  it("is idempotent", () => {
    const once = redactUrls("ws://a:SECRET@h:1/?t=SECRET");
    expect(redactUrls(once)).toBe(once);
  });
});
