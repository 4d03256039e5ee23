import type { z } from "zod";
import type { FluxMsg } from "../../../shared/fluxmsg/message.ts";
import type { FluxMsgDraft, FluxMsgInit } from "../../../shared/fluxmsg/produce.ts";
import type { GearTypeDeclaration } from "../../../shared/gears/gear-type.ts";
import type { FluxSpec } from "../../../shared/spec/index.ts";
import type { LOG_RECORD_LEVELS } from "../../../shared/telemetry/records.ts";
import type { JournalCrossing } from "../journal/journal-record.ts";

export type GearLogLevel = (typeof LOG_RECORD_LEVELS)[number];

/** A gear's logger: every line carries the rack and the gear's id, here and in telemetry. */
export type GearLog = Record<
  GearLogLevel,
  (message: string, attributes?: Record<string, unknown>, fluxId?: string) => void
>;

/**
 * What a running gear is given. `config` is the gear's `config:` parsed by its type's schema, with `${NAME}`
 * in string values replaced by the rack's sealed secret of that name.
 */
export interface GearContext<C> {
  /** The gear's name in the scenario: its id in logs, metrics and spans. */
  name: string;
  /** This rack's name (`src.rack` of what the gear emits). */
  rack: string;
  config: C;
  log: GearLog;
  /** Input ports something is wired to (a reply port nobody feeds means: answer at once). */
  wiredInputs: ReadonlySet<string>;
  /**
   * Emits on an output port. Pass a message derived from the one being processed (`{ ...msg, data }`), so
   * the next hop is a child span of this one, or one made by {@link newMessage}. Returns a promise only when
   * the receiving gears are saturated: a source should await it before making more.
   */
  emit(port: string, msg: FluxMsgDraft): undefined | Promise<void>;
  /**
   * A message entering the platform here: a new flux_id and a new trace, or a child of `traceparent`
   * (e.g. an HTTP request's `traceparent` header) when it is a valid one.
   */
  newMessage(init: Omit<FluxMsgInit, "trace">, traceparent?: string): FluxMsgDraft;
  /** Refuses a message this gear could not take (a bad frame): it goes to the rack's dead-letter subject. */
  deadLetter(msg: FluxMsgDraft, reason: string): void;
  /**
   * Records a message in the rack's journal (masked by its spec, if it names one). Resolves at once unless the
   * journal's publish window is full: await it to slow down with the bus.
   */
  journal(msg: FluxMsg, crossing: JournalCrossing): Promise<void>;
  /** The fluxSpecs this rack holds with its scenario part. */
  specs: GearSpecs;
}

/** The fluxSpecs a rack holds: those its part's gears name, as the mixer resolved them at activation. */
export interface GearSpecs {
  /** A spec by the reference a gear's config gives (`visa-v1`, `visa-v1:1.0.0`). */
  get(reference: string): FluxSpec | undefined;
  /** The key of a spec's `mask: hash`: the rack secret its `spec.hash_key` names, as bytes (UTF-8). */
  hashKey(spec: FluxSpec): Uint8Array | undefined;
}

/**
 * A gear: a typed lifecycle around `process`. Every method is optional; the runtime calls `init` (bind,
 * open: what can fail before anything flows), `start` (sources begin), `process` for each message on an
 * input, `drain` (stop taking new work and finish what is in hand), then `stop` (release everything).
 * A `process` that throws or rejects dead-letters that one message; the gear keeps running.
 */
export interface Gear {
  init?(): void | Promise<void>;
  start?(): void | Promise<void>;
  process?(msg: FluxMsg, port: string): void | Promise<void>;
  drain?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** A gear type the rack can run: its shared declaration and a factory for instances. */
export interface GearImplementation<S extends z.ZodType = z.ZodType> {
  declaration: GearTypeDeclaration<S>;
  create(context: GearContext<z.output<S>>): Gear;
}

/**
 * Pairs a declaration with the code that runs it; the factory's config is typed from the declaration.
 *
 * @example
 * export const echoGear = defineGear(echoGearType, (ctx) => ({
 *   process: (msg) => void ctx.emit("out", msg),
 * }));
 */
export function defineGear<S extends z.ZodType>(
  declaration: GearTypeDeclaration<S>,
  create: (context: GearContext<z.output<S>>) => Gear,
): GearImplementation<S> {
  return { declaration, create };
}
