import { type LocalMixerInput, startLocalMixer } from "./local-mixer.ts";

/**
 * `fluxrig-mixer dev`: starts the local mixer, prints where everything listens and the API token, then runs
 * until Ctrl-C (or until a child dies), stopping both children cleanly.
 */
export async function runDev(input: LocalMixerInput, io: { out: (text: string) => void }): Promise<void> {
  input.log("starting nats-server and the mixer (first start compiles the Worker; allow a few seconds)");
  const mixer = await startLocalMixer(input);
  io.out(
    [
      "",
      "fluxrig mixer is running",
      `  API        ${mixer.apiUrl}`,
      `  token      ${mixer.token}   (${mixer.tokenSource})`,
      `  NATS       ${mixer.natsUrl}   (racks: snake.url)`,
      `  websocket  ${mixer.wsUrl}   (the mixer's Snake bridge: snake.websocket_url)`,
      `  store      ${mixer.storeDir}`,
      "",
      "Try:",
      `  curl ${mixer.apiUrl}/health`,
      `  npx fluxrig emit logs --count 100 --snake-url ${mixer.natsUrl}`,
      `  curl -H "Authorization: Bearer ${mixer.token}" ${mixer.apiUrl}/api/v1/telemetry/files`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("stopping (SIGINT)"));
    process.once("SIGTERM", () => resolve("stopping (SIGTERM)"));
  });
  const reason = await Promise.race([signalled, mixer.failed]);
  input.log(reason);
  await mixer.stop();
  if (!reason.startsWith("stopping")) throw new Error(`${reason}; see the lines above`);
  input.log("stopped");
}
