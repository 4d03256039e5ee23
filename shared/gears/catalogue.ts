import { codecGearType } from "./codec.ts";
import type { AnyGearTypeDeclaration } from "./gear-type.ts";
import { generatorGearType } from "./generator.ts";
import { httpInGearType } from "./http-in.ts";
import { httpOutGearType } from "./http-out.ts";
import { journalGearType } from "./journal.ts";
import { logSinkGearType } from "./log-sink.ts";
import { routerGearType } from "./router.ts";
import { tcpInGearType } from "./tcp-in.ts";
import { transformGearType } from "./transform.ts";

/** Gear types by name: what a scenario may use. */
export type GearCatalogue = ReadonlyMap<string, AnyGearTypeDeclaration>;

/**
 * The built-in gear types.
 *
 * @example validateScenario(text, { file, catalogue: BUILT_IN_GEAR_TYPES })
 */
export const BUILT_IN_GEAR_TYPES: GearCatalogue = new Map(
  [
    generatorGearType,
    httpInGearType,
    tcpInGearType,
    transformGearType,
    routerGearType,
    httpOutGearType,
    logSinkGearType,
    journalGearType,
    codecGearType,
  ].map((declaration) => [declaration.type, declaration as AnyGearTypeDeclaration]),
);
