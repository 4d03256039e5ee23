import { journalGearType } from "../../../../shared/gears/journal.ts";
import { defineGear } from "../gear.ts";

/**
 * `journal`: one journal record per message (src = the gear that emitted it, dst = this gear), then the same
 * message on `out`. It waits for the journal only when the journal's publish window is full (backpressure).
 */
export const journalGear = defineGear(journalGearType, (ctx) => ({
  async process(msg) {
    const { direction, status } = ctx.config;
    await ctx.journal(msg, { direction, status, src: msg.src.gear, dst: ctx.name });
    await ctx.emit("out", msg);
  },
}));
