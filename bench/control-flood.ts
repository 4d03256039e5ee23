/**
 * A flood on the control plane: N heartbeats and enrollment requests (garbage, unsigned, replayed, oversize;
 * see test/helpers/control-flood.ts) published as fast as one connection goes at the real local mixer
 * (nats-server + the Worker under wrangler dev), while `/health` is polled and the resident memory of the
 * workerd running the Worker is sampled. Prints, per round: how long the flood took to send and for the
 * bridge to work off, what the bridge took in, shed (by reason) and paused, whether every enrollment got an
 * answer, nats-server's slow-consumer count, `/health` latency, and workerd's RSS before, at its peak, when
 * the bridge is idle again and after a pause. Several rounds show whether memory keeps growing.
 *
 *   npx tsx bench/control-flood.ts [--messages 60000] [--rounds 2] [--settle-seconds 10]
 *
 * Baselines in the same run: `/health` latency of the idle mixer, and a round of the same flood on subjects
 * no one subscribes to (nats-server drops it): what the flood costs the machine (publisher, nats-server, the
 * wrangler proxy) without the mixer reading any of it.
 */
import { readdir, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  controlFlood,
  controlIdle,
  controlTotals,
  natsMonitoringUrl,
  pollHealth,
  publishFlood,
  slowConsumers,
  type TimedHealth,
  timedHealth,
} from "../test/helpers/control-flood.ts";
import { startTestMixer } from "../test/helpers/test-mixer.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "60000" },
    rounds: { type: "string", default: "2" },
    "settle-seconds": { type: "string", default: "10" },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const SETTLE_MS = Number(values["settle-seconds"]) * 1_000;
const fmt = (n: number) => (Number.isNaN(n) ? "(gone)" : Math.round(n).toLocaleString("en-US"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The workerd that runs the Worker under the `wrangler dev` listening on `apiPort`. wrangler runs in its own
 * process group (the local mixer starts it detached) with two workerd: a proxy bound to the API port, and
 * the runtime of the Worker and its Durable Objects, bound elsewhere.
 */
async function workerdPid(apiPort: string): Promise<number> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const read = (pid: string, file: string) => readFile(`/proc/${pid}/${file}`, "utf8").catch(() => "");
  const args = async (pid: string) => (await read(pid, "cmdline")).split("\0");
  let wrangler: string | undefined;
  for (const pid of pids) {
    const a = await args(pid);
    if (a.some((x) => x.endsWith("wrangler-dist/cli.js")) && a[a.indexOf("--port") + 1] === apiPort)
      wrangler = pid;
  }
  if (!wrangler) throw new Error(`no wrangler dev process with --port ${apiPort}`);
  for (const pid of pids) {
    const stat = await read(pid, "stat");
    const group = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2];
    const proxy = (await args(pid)).includes(`--socket-addr=entry=127.0.0.1:${apiPort}`);
    if (/\(workerd\)/.test(stat) && group === wrangler && !proxy) return Number(pid);
  }
  throw new Error(`no workerd running the Worker in the process group of wrangler ${wrangler}`);
}

/** Resident memory in MiB (`VmRSS` of /proc/<pid>/status); NaN once the process is gone. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

function latencies(polls: TimedHealth[]) {
  const ms = polls.map((p) => p.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? Number.NaN;
  const failed = polls.filter((p) => !p.body).length;
  return `${polls.length} polls, p50 ${fmt(at(0.5))} ms, p95 ${fmt(at(0.95))} ms, max ${fmt(ms.at(-1) ?? Number.NaN)} ms, failed ${failed}`;
}

const mixer = await startTestMixer();
try {
  const pid = await workerdPid(new URL(mixer.apiUrl).port);
  const monitoring = await natsMonitoringUrl(mixer.storeDir);
  const nc = await mixer.connectBus({ name: "control-flood-bench" });
  const messages = controlFlood(MESSAGES);
  const enrollments = messages.filter((m) => m.request).length;
  const kib = messages.reduce((n, m) => n + m.data.byteLength, 0) / 1024;
  console.log(
    `control flood: ${fmt(MESSAGES)} messages (${fmt(enrollments)} enrollment requests), ${fmt(kib)} KiB, one connection; workerd ${pid}`,
  );

  await sleep(2_000);
  const idle = pollHealth(mixer.apiUrl);
  await sleep(2_000);
  console.log(`  /health idle (baseline): ${latencies(await idle.stop())}`);
  {
    const unread = messages.map((m) => ({
      ...m,
      subject: m.subject.replace(/^flux\.ctl\./, "flux.unread."),
    }));
    const rss = await rssMiB(pid);
    const polls = pollHealth(mixer.apiUrl);
    const { ms } = await publishFlood(nc, unread);
    await sleep(2_000);
    console.log(
      `  /health during the same flood on subjects no one reads (baseline): ${latencies(await polls.stop())}; ` +
        `sent in ${fmt(ms)} ms; workerd RSS ${fmt(rss)} -> ${fmt(await rssMiB(pid))} MiB`,
    );
  }
  let before = controlTotals((await timedHealth(mixer.apiUrl)).body?.control);

  for (let round = 1; round <= ROUNDS; round++) {
    const rssBefore = await rssMiB(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      void rssMiB(pid).then((mib) => {
        rssPeak = Math.max(rssPeak, mib);
      });
    }, 100);
    const during = pollHealth(mixer.apiUrl);
    const { ms: floodMs, replies } = await publishFlood(nc, messages);
    // Until the bridge has worked off what it took (received = processed + shed), at most 60 s.
    const settleStarted = performance.now();
    await controlIdle(during.polls, 1_000, 60_000);
    // Less the second of quiet it waited for.
    const workedOffMs = performance.now() - settleStarted + floodMs - 1_000;
    const polls = await during.stop();
    clearInterval(sampler);
    const rssIdleAgain = await rssMiB(pid);
    await sleep(SETTLE_MS);
    const rssAfter = await rssMiB(pid);
    const after = await timedHealth(mixer.apiUrl);
    const now = controlTotals(after.body?.control);
    const delta = (pick: (t: typeof now) => number) => fmt(pick(now) - pick(before));

    console.log(`round ${round}:`);
    console.log(`  sent + flushed in ${fmt(floodMs)} ms (${fmt(MESSAGES / (floodMs / 1000))} msg/s)`);
    console.log(`  bridge idle again ${fmt(workedOffMs)} ms after the first was sent`);
    console.log(`  /health during flood: ${latencies(polls)}`);
    console.log(
      `  nats.connected: ${polls.every((p) => p.body?.nats.connected) ? "true in every poll" : "NOT in every poll"}; ` +
        `nats-server slow_consumers: ${await slowConsumers(monitoring)}`,
    );
    if (after.body?.control) {
      console.log(
        `  bridge: received ${delta((t) => t.received)}, processed ${delta((t) => t.processed)}, shed ` +
          `${delta((t) => t.shedTotal)} (queue_full ${delta((t) => t.shed.queue_full)}, rate_limited ` +
          `${delta((t) => t.shed.rate_limited)}, oversize ${delta((t) => t.shed.oversize)}), paused ` +
          `${delta((t) => t.pauses)} times; the other ${fmt(MESSAGES - (now.received - before.received))} ` +
          "were dropped by nats-server while the bridge waited for room",
      );
    } else
      console.log("  bridge: /health has no control counters (a mixer from before they were added, or down)");
    console.log(
      `  enrollment replies: ${fmt(replies.busy)} busy (503: the bridge's or nats-server's no-responders), ` +
        `${fmt(replies.answered)} answered by the mixer, of ${fmt(enrollments)} requests`,
    );
    console.log(
      `  workerd RSS (MiB): before ${fmt(rssBefore)}, peak ${fmt(rssPeak)}, when idle again ${fmt(rssIdleAgain)}, ` +
        `${SETTLE_MS / 1000} s later ${fmt(rssAfter)}`,
    );
    for (const [lane, c] of Object.entries(after.body?.control ?? {}))
      console.log(`    ${lane}: ${JSON.stringify(c)}`);
    before = now;
  }
  await nc.close();
} finally {
  await mixer.dispose();
}
