import { clearTimeout, setTimeout } from "node:timers";
import type { FluxData } from "../../../../shared/fluxmsg/message.ts";
import { generatorGearType } from "../../../../shared/gears/generator.ts";
import { seededRandom as seeded } from "../../../../shared/random/seeded-random.ts";
import { visaAuthFrame } from "../../../../shared/spec/samples/visa-v1-auth.ts";
import { defineGear } from "../gear.ts";

const PLACEHOLDER = /^\{\{(seq|random:(-?\d+):(-?\d+)|pick:([^}]+))\}\}$/;

/** Makes one message's `data` from its number. */
type Render = (seq: number) => FluxData;

/**
 * Compiles a template once into the function that fills it: `{{seq}}`, `{{random:LO:HI}}` and `{{pick:A,B}}`
 * strings; `{{seq}}` inside text too. Values are drawn in the template's order, as walking it would; every call
 * makes new objects and arrays. (Walking the template for each message, matching every string against the
 * placeholders, cost more than all else the generator does at 10,000 messages a second.)
 */
function compile(template: FluxData, random: () => number): Render {
  if (typeof template === "string") {
    const m = PLACEHOLDER.exec(template);
    if (!m) {
      if (!template.includes("{{seq}}")) return () => template;
      const parts = template.split("{{seq}}");
      return (seq) => parts.join(String(seq));
    }
    if (m[1] === "seq") return (seq) => seq;
    if (m[2] !== undefined) {
      const lo = Number(m[2]);
      const span = Number(m[3]) - lo + 1;
      return () => lo + Math.floor(random() * span);
    }
    const words = (m[4] as string).split(",");
    return () => words[Math.floor(random() * words.length)] as string;
  }
  if (Array.isArray(template)) {
    const items = template.map((item) => compile(item, random));
    return (seq) => items.map((item) => item(seq));
  }
  if (template && typeof template === "object") {
    const fields = Object.entries(template).map(([key, item]) => [key, compile(item, random)] as const);
    // An assignment to "__proto__" would set the prototype instead of making the field.
    if (fields.some(([key]) => key === "__proto__")) {
      return (seq) => Object.fromEntries(fields.map(([key, item]) => [key, item(seq)]));
    }
    return (seq) => {
      const out: Record<string, FluxData> = {};
      for (const [key, item] of fields) out[key] = item(seq);
      return out;
    };
  }
  return () => template;
}

/** The frame makers of `preset`, by name. */
const PRESET_FRAMES = { "visa-v1-auth": visaAuthFrame } as const;

/** Timer granularity: at high rates several messages go per tick. */
const TICK_MS = 10;
/**
 * Longest a tick makes messages before it lets the rest of the rack run. Behind its rate (a busy machine), a
 * tick would otherwise catch up in one go, and while it did no ack, timer or disk write of the rack's was
 * served: its publishes timed out and its spool fell behind.
 */
const SLICE_MS = 20;

/**
 * `generator`: `rate` messages per second from `template`, `count` in all (0: until stopped). Awaits the
 * receivers when they are saturated, so it never runs ahead of them.
 */
export const generatorGear = defineGear(generatorGearType, (ctx) => {
  const { rate, count, type, template, seed, preset } = ctx.config;
  const random = seeded(seed);
  const render = compile(template, random);
  let seq = 0;
  let startedAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  const tick = async () => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate) + 1;
    const yieldAt = performance.now() + SLICE_MS;
    while (running && seq < due && (count === 0 || seq < count) && performance.now() < yieldAt) {
      seq++;
      const msg = preset
        ? ctx.newMessage({ type, data: { seq }, raw: PRESET_FRAMES[preset](seq, random, new Date()) })
        : ctx.newMessage({ type, data: render(seq) });
      const sent = ctx.emit("out", msg);
      if (sent) await sent.catch((error: Error) => ctx.deadLetter(msg, error.message));
    }
    // Still behind: go on at once, after what waited; else at the next tick.
    const wait = seq < due ? 0 : Math.max(TICK_MS, 1000 / rate);
    if (running && (count === 0 || seq < count)) timer = setTimeout(tick, wait);
  };
  return {
    start() {
      running = true;
      startedAt = performance.now();
      void tick();
    },
    drain() {
      running = false;
      clearTimeout(timer);
    },
  };
});
