import type { z } from "zod";
import type { GearCatalogue } from "../../../shared/gears/catalogue.ts";
import type { AnyGearTypeDeclaration } from "../../../shared/gears/gear-type.ts";
import { codecGear } from "./builtin/codec.ts";
import { generatorGear } from "./builtin/generator.ts";
import { httpInGear } from "./builtin/http-in.ts";
import { httpOutGear } from "./builtin/http-out.ts";
import { journalGear } from "./builtin/journal.ts";
import { logSinkGear } from "./builtin/log-sink.ts";
import { routerGear } from "./builtin/router.ts";
import { tcpInGear } from "./builtin/tcp-in.ts";
import { transformGear } from "./builtin/transform.ts";
import type { GearImplementation } from "./gear.ts";

/** The gear types this rack can run, by name: the built-ins and any a user registers. */
export class GearRegistry {
  readonly #types = new Map<string, GearImplementation>();

  /**
   * The built-in types: generator, http-in, tcp-in, transform, router, http-out, log-sink, journal, codec.
   *
   * @example const registry = GearRegistry.builtIn().register(redactGear);
   */
  static builtIn(): GearRegistry {
    return new GearRegistry()
      .register(generatorGear)
      .register(httpInGear)
      .register(tcpInGear)
      .register(transformGear)
      .register(routerGear)
      .register(httpOutGear)
      .register(logSinkGear)
      .register(journalGear)
      .register(codecGear);
  }

  /** Adds a gear type; a name already taken is refused (a user type cannot silently replace a built-in). */
  register<S extends z.ZodType>(implementation: GearImplementation<S>): this {
    const { type } = implementation.declaration;
    if (this.#types.has(type)) throw new Error(`gear type "${type}" is already registered`);
    this.#types.set(type, implementation as unknown as GearImplementation);
    return this;
  }

  /** The implementation of a type; throws naming the known types. */
  get(type: string): GearImplementation {
    const found = this.#types.get(type);
    if (!found)
      throw new Error(`unknown gear type "${type}"; this rack runs: ${[...this.#types.keys()].join(", ")}`);
    return found;
  }

  /** The declarations, for validating scenarios against what this rack can run. */
  catalogue(): GearCatalogue {
    return new Map(
      [...this.#types].map(([type, implementation]) => [
        type,
        implementation.declaration as AnyGearTypeDeclaration,
      ]),
    );
  }
}
