import * as z from "zod";
import { JOURNAL_DIRECTIONS, JOURNAL_STATUSES } from "../journal/record.ts";
import { defineGearType } from "./gear-type.ts";

/**
 * `journal`: records each message it sees in the journal (stored under `messages/` by the mixer) and passes
 * it on unchanged. `direction` says where it sits: `inbound` after an ingress gear, `outbound` before an
 * egress gear, `internal` between gears; `status` marks the messages of, say, a router's error branch.
 */
export const journalGearType = defineGearType({
  type: "journal",
  description: "records each message in the journal and passes it on unchanged",
  config: z.strictObject({
    direction: z.enum(JOURNAL_DIRECTIONS).default("internal"),
    status: z.enum(JOURNAL_STATUSES).default("ok"),
  }),
  inputs: ["in"],
  outputs: ["out"],
});
