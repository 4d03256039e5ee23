import type { JetStreamClient, PubAck } from "@nats-io/jetstream";
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
 * Stores one dead letter: `data` (a fluxMsg's CBOR, or bytes that were not one) on `flux.dlq.msg.<rack>`
 * with the reason and the gear as headers. Resolves once JetStream acknowledged it.
 *
 * @example await publishDeadLetter(js, "rack-nyc-01", jsMsg.data, "authorizer", "failed 5 times: …");
 */
export function publishDeadLetter(
  js: JetStreamClient,
  rackName: string,
  data: Uint8Array,
  gear: string,
  reason: string,
): Promise<PubAck> {
  const h = headers();
  h.set(DEAD_LETTER_REASON_HEADER, reason.slice(0, DEAD_LETTER_REASON_MAX));
  h.set(DEAD_LETTER_GEAR_HEADER, gear);
  return js.publish(businessDeadLetterSubject(rackName), data, { headers: h });
}

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
  return function deadLetter(msg: FluxMsgDraft, gear: string, reason: string) {
    publishDeadLetter(js, rackName, cbor.encode(msg), gear, reason).catch((error: Error) =>
      warn(
        `dead letter of ${msg.id} from gear ${gear} not stored on ${businessDeadLetterSubject(rackName)}: ${error.message}`,
      ),
    );
  };
}
