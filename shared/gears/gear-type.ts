import type { z } from "zod";

/**
 * What a gear type is, without its implementation: its ports and its config schema. Scenario validation needs
 * only this (on the mixer too), so it lives in shared/; the code that runs it lives in the rack.
 */
export interface GearTypeDeclaration<S extends z.ZodType = z.ZodType> {
  /** The name a scenario gives in `type:`. */
  type: string;
  description: string;
  /** The gear's `config:`; its output type is what the implementation receives. */
  config: S;
  inputs: readonly string[];
  /** Output ports; a function when the config names them (a router's routes). */
  outputs: readonly string[] | ((config: z.output<S>) => readonly string[]);
  /**
   * Inputs that emit on no output (a reply written back to a client): a wire into one closes no loop, so
   * cycle checks leave it out. Every other input may lead to every output.
   */
  terminalInputs?: readonly string[];
  /**
   * The fluxSpecs a gear of this type reads (`id` or `id:version`), each with where its config names it: the
   * mixer refuses a scenario naming a spec it does not hold, and sends the rack the specs with its part.
   */
  specs?: (config: z.output<S>) => readonly { path: readonly (string | number)[]; reference: string }[];
}

/** A declaration whose config type is erased, as catalogues hold them. */
export type AnyGearTypeDeclaration = GearTypeDeclaration<z.ZodType>;

/**
 * Declares a gear type, keeping its config's type for the implementation.
 *
 * @example
 * export const echoGearType = defineGearType({
 *   type: "echo", description: "emits what it receives", config: z.strictObject({}),
 *   inputs: ["in"], outputs: ["out"],
 * });
 */
export function defineGearType<S extends z.ZodType>(
  declaration: GearTypeDeclaration<S>,
): GearTypeDeclaration<S> {
  return declaration;
}

/**
 * A gear's ports for a config that passed the declaration's schema.
 *
 * @example gearPorts(routerGearType, config).outputs // ["approve", "decline", "default"]
 */
export function gearPorts<S extends z.ZodType>(
  declaration: GearTypeDeclaration<S>,
  config: z.output<S>,
): { inputs: readonly string[]; outputs: readonly string[] } {
  const { outputs } = declaration;
  return { inputs: declaration.inputs, outputs: typeof outputs === "function" ? outputs(config) : outputs };
}
