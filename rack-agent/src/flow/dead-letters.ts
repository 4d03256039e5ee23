import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { cbor } from "../../../shared/fluxmsg/cbor.ts";
import {
  DEAD_LETTER_GEAR_HEADER,
  DEAD_LETTER_REASON_HEADER,
  DEAD_LETTER_REASON_MAX,
} from "../../../shared/fluxmsg/dead-letter-headers.ts";
import type { FluxMsgDraft } from "../../../shared/fluxmsg/produce.ts";
import { businessDeadLetterSubject } from "../../../shared/fluxmsg/subjects.ts";
import type { GearServices } from "../gears/gear-host.ts";

/**
 * Dead letters of a rack's business messages: the message as CBOR on `flux.dlq.msg.<rack>` (the telemetry
 * stream keeps `flux.dlq.>`), with the reason and the gear as headers. Publishing is acknowledged by
 * JetStream but not awaited by the gear: a failed one is reported, and the gear goes on.
 *
 * @example const deadLetter = businessDeadLetters(js, "rack-nyc-01", log.warn);
 */
export function businessDeadLetters(
  js: JetStreamClient,
  rackName: string,
  warn: (message: string) => void,
): GearServices["deadLetter"] {
  const subject = businessDeadLetterSubject(rackName);
  return function deadLetter(msg: FluxMsgDraft, gear: string, reason: string) {
    const h = headers();
    h.set(DEAD_LETTER_REASON_HEADER, reason.slice(0, DEAD_LETTER_REASON_MAX));
    h.set(DEAD_LETTER_GEAR_HEADER, gear);
    js.publish(subject, cbor.encode(msg), { headers: h }).catch((error: Error) =>
      warn(`dead letter of ${msg.id} from gear ${gear} not stored on ${subject}: ${error.message}`),
    );
  };
}
