import { type LocalMixerInput, startLocalMixer } from "./local-mixer.ts";

export interface DevOptions {
  /** How long a stop waits for the bridge to store what the bus holds (`--drain-timeout`). */
  drainTimeoutMs?: number;
}

/**
 * `fluxrig-mixer dev`: starts the local mixer, prints where everything listens and the API token, then runs
 * until Ctrl-C, SIGTERM or a closed terminal (or until the Worker dies), and stops in order: intake closed,
 * the bridge drained to R2, the Worker, then nats-server. A second Ctrl-C cuts the drain short.
 */
export async function runDev(
  input: LocalMixerInput,
  io: { out: (text: string) => void },
  options: DevOptions = {},
): Promise<void> {
  input.log("starting nats-server and the mixer (first start compiles the Worker; allow a few seconds)");
  const mixer = await startLocalMixer(input);
  io.out(
    [
      "",
      "fluxrig mixer is running",
      `  console    ${mixer.apiUrl}/   (sign in with the token below)`,
      `  API        ${mixer.apiUrl}/api/v1`,
      `  token      ${mixer.token}   (${mixer.tokenSource})`,
      `  bootstrap  ${mixer.bootstrapToken}   (${mixer.bootstrapTokenSource}; racks: FLUXRIG_RACK_BOOTSTRAP_TOKEN)`,
      `  cluster    ${mixer.clusterKeyFingerprint}   (pin it: FLUXRIG_RACK_CLUSTER_KEY_FINGERPRINT)`,
      ...(mixer.enrollmentToken
        ? [
            `  bus        operator mode (snake.auth = "jwt"); racks: FLUXRIG_SNAKE_ENROLLMENT_TOKEN=$(cat ${mixer.storeDir}/enrollment-token)`,
          ]
        : []),
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
  const hurry = new AbortController();
  const signalled = new Promise<string>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (signal === "SIGINT") hurry.abort();
        return;
      }
      stopping = true;
      resolve(`stopping (${signal}); press Ctrl-C again to stop without waiting for the drain`);
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  });
  const reason = await Promise.race([signalled, mixer.failed]);
  input.log(reason, reason.startsWith("stopping") ? "info" : "error");
  await mixer.stop({
    signal: hurry.signal,
    ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
  });
  if (!reason.startsWith("stopping")) throw new Error(`${reason}; see the lines above`);
  input.log("stopped");
}
