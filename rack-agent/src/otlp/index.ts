import type { RackConfig } from "../../../shared/config/rack-schema.ts";
import { type OtlpTarget, otlpTarget } from "../../../shared/otlp/otlp-target.ts";

export type { OtlpTarget } from "../../../shared/otlp/otlp-target.ts";
/** The OTLP tier: the one face of this folder. */
export { LocalMessages } from "./local-messages.ts";
export { OtlpExporter } from "./otlp-exporter.ts";

/**
 * What `observability.tier` asks of the rack's telemetry client, as options of `createTelemetry`: with
 * `tier = "otlp"` an OTLP target (telemetry goes to the collector, not to Snake), and with
 * `[observability.otlp.messages] enabled` the folder where journal records are also kept as Parquet.
 *
 * @example const telemetry = await createTelemetry({ nc, ...otherOptions, ...telemetryTier(config) });
 */
export function telemetryTier(config: RackConfig): {
  otlp?: OtlpTarget | undefined;
  localMessagesDir?: string | undefined;
} {
  const { tier, otlp } = config.observability;
  if (tier !== "otlp") return {};
  return {
    otlp: otlpTarget(otlp),
    localMessagesDir: otlp.messages.enabled ? otlp.messages.data_dir : undefined,
  };
}
