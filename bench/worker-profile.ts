import { writeFile } from "node:fs/promises";
import WebSocket from "ws";

/** The parts of a V8 CPU profile (the inspector's Profiler.stop answer) read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A sample further than this from the one before is the isolate waiting (workerd pins it on the last frame). */
const IDLE_GAP_US = 20_000;

/**
 * Profiles the mixer Worker's isolate through `wrangler dev`'s inspector (TestMixer.inspectorPort) until
 * `stop`, which writes the `.cpuprofile` (for Chrome DevTools) and returns the functions with the most self
 * time, as lines to print. Samples after a gap of over 20 ms are left out: workerd charges the wait for I/O
 * (a D1 query, a fetch) to the frame that awaited it.
 *
 * @example const profile = await profileWorker(mixer.inspectorPort); …; console.log((await profile.stop("w.cpuprofile")).join("\n"));
 */
export async function profileWorker(
  inspectorPort: number,
): Promise<{ stop(path: string): Promise<string[]> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets.find((target) => target.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspectable Worker at 127.0.0.1:${inspectorPort}`);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  return {
    async stop(path) {
      const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
      socket.close();
      await writeFile(path, JSON.stringify(profile));
      return topSelfTime(profile, 20);
    },
  };
}

function topSelfTime(profile: CpuProfile, count: number): string[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    if (delta > IDLE_GAP_US) return;
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)" || frame.functionName === "(program)") return;
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + delta);
    busy += delta;
  });
  return [
    `worker CPU profile: ${(busy / 1000).toFixed(0)} ms busy (self time, top ${count})`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`,
      ),
  ];
}
