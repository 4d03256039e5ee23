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
      `  bootstrap  ${mixer.bootstrapToken}   (${mixer.bootstrapTokenSource}; racks: FLUXRIG_RACK_BOOTSTRAP_TOKEN)`,
      `  cluster    ${mixer.clusterKeyFingerprint}   (pin it: FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT)`,
      `  NATS       ${mixer.natsUrl}   (racks: snake.url)`,
      `  websocket  ${mixer.wsUrl}   (the mixer's Snake bridge: snake.websocket_url)`,
      `  store      ${mixer.storeDir}`,
      "",
      "Try:",
      `  curl ${mixer.apiUrl}/health`,
      `  npx fluxrig emit logs --count 100 --snake-url ${mixer.natsUrl}`,
      `  curl -H "Authorization: Bearer ${mixer.token}" ${mixer.apiUrl}/api/v1/telemetry/files`,
      `  FLUXRIG_RACK_BOOTSTRAP_TOKEN=${mixer.bootstrapToken} npx fluxrig run --name rack-01 --snake-url ${mixer.natsUrl}`,
      `  npx fluxrig racks list --api-url ${mixer.apiUrl}        (then: npx fluxrig racks approve rack-01)`,
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
