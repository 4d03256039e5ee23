import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { expect, it, onTestFinished } from "vitest";
import { startNatsServer } from "../../test/helpers/nats-server.ts";
import { loadConfig, mixerConfigSchema } from "../config/index.ts";
import { TELEMETRY_STREAM } from "../fluxmsg/subjects.ts";
import { ensureStreams, snakeStreamSpecs } from "./streams.ts";

/** The mixer's [snake] section from TOML, through the real loader (durations parsed to ms). */
function snakeConfig(toml = "") {
  return loadConfig(mixerConfigSchema, { file: { path: "fluxrig-mixer.toml", text: `[snake]\n${toml}` } })
    .config.snake;
}

async function jsmOnFreshServer() {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  onTestFinished(async () => {
    await nc.close();
    await server.stop();
  });
  return jetstreamManager(nc, { domain: server.jetstreamDomain });
}

it("creates the business and telemetry streams from [snake], in memory unless durable", async () => {
  const jsm = await jsmOnFreshServer();
  const { business, telemetry } = await ensureStreams(jsm, snakeConfig());

  expect(business.config).toMatchObject({
    name: "flux-msg",
    subjects: ["flux.msg.>", "flux.gear.>", "fluxrig.>"],
    max_age: nanos(720 * 3_600_000),
    storage: StorageType.Memory,
  });
  expect(telemetry.config).toMatchObject({
    name: TELEMETRY_STREAM,
    subjects: ["flux.telemetry.>", "flux.journal.>", "flux.dlq.>"],
    max_age: nanos(24 * 3_600_000),
    storage: StorageType.Memory,
  });
  // What the server holds, not only what the create call echoed.
  expect((await jsm.streams.info(TELEMETRY_STREAM)).config.max_age).toBe(86_400_000_000_000);
});

it("uses file storage when durable, and a second run with the same settings changes nothing", async () => {
  const jsm = await jsmOnFreshServer();
  const settings = snakeConfig('durable = true\nstream_name = "biz"\ntelemetry_stream_max_age = "90m"');
  const first = await ensureStreams(jsm, settings);
  const again = await ensureStreams(jsm, settings);

  expect(first.business.config.storage).toBe(StorageType.File);
  expect(first.telemetry.config.storage).toBe(StorageType.File);
  expect(first.telemetry.config.max_age).toBe(nanos(90 * 60_000));
  expect(again.business.created).toBe(first.business.created);
  expect(again.telemetry.config).toEqual(first.telemetry.config);
  expect(await jsm.streams.names().next()).toHaveLength(2);
});

it("updates subjects and max age in place when the config changes", async () => {
  const jsm = await jsmOnFreshServer();
  await ensureStreams(jsm, snakeConfig());
  const { business, telemetry } = await ensureStreams(
    jsm,
    snakeConfig(
      'stream_subjects = ["flux.msg.>"]\nbusiness_stream_max_age = "1h"\ntelemetry_stream_max_age = "2h"',
    ),
  );

  expect(business.config.subjects).toEqual(["flux.msg.>"]);
  expect(business.config.max_age).toBe(nanos(3_600_000));
  expect(telemetry.config.max_age).toBe(nanos(7_200_000));
});

it("names the other stream and the setting when subjects overlap", async () => {
  const jsm = await jsmOnFreshServer();
  await jsm.streams.add({ name: "legacy", subjects: ["flux.telemetry.logs.>"] });

  await expect(ensureStreams(jsm, snakeConfig())).rejects.toThrow(
    /stream "flux-telemetry" .*overlap "legacy" \(subjects flux\.telemetry\.logs\.>\).*snake\.stream_subjects/,
  );
});

it("refuses business subjects another stream captures, naming that stream", async () => {
  const jsm = await jsmOnFreshServer();
  await jsm.streams.add({ name: "orders", subjects: ["orders.>"] });

  await expect(ensureStreams(jsm, snakeConfig('stream_subjects = ["orders.>"]'))).rejects.toThrow(
    /overlap "orders" \(subjects orders\.>\).*snake\.stream_subjects/,
  );
  // The telemetry stream's own subjects are refused before JetStream is asked.
  expect(() => snakeStreamSpecs({ ...snakeConfig(), stream_subjects: ["flux.telemetry.>"] })).toThrow(
    /entry "flux\.telemetry\.>": it would capture flux\.telemetry\.>/,
  );
});

it("explains that snake.durable cannot change an existing stream's storage", async () => {
  const jsm = await jsmOnFreshServer();
  await ensureStreams(jsm, snakeConfig());

  await expect(ensureStreams(jsm, snakeConfig("durable = true"))).rejects.toThrow(
    /stream "flux-msg" exists with memory storage but snake\.durable asks for file/,
  );
});

it("refuses stream subjects that would capture the control plane's subjects, naming the entry", () => {
  // The loader refuses these too; stream creation checks again for settings made another way.
  const withSubjects = (stream_subjects: string[]) => ({ ...snakeConfig(), stream_subjects });
  expect(() => snakeStreamSpecs(withSubjects(["flux.msg.>", "flux.>"]))).toThrow(
    /snake\.stream_subjects entry "flux\.>": it would capture flux\.ctl\.>: the control plane/,
  );
  expect(() => snakeStreamSpecs(withSubjects(["flux.ctl.heartbeat.*"]))).toThrow(
    /entry "flux\.ctl\.heartbeat\.\*": it would capture flux\.ctl\.>/,
  );
  expect(snakeStreamSpecs(snakeConfig('stream_subjects = ["flux.ctlx.>", "flux.x.*"]'))[0].subjects).toEqual([
    "flux.ctlx.>",
    "flux.x.*",
  ]);
});
