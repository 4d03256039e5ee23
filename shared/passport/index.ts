/** Passports and the keys behind them: the one face of this folder (Web APIs only; Node and workerd). */
export { type Bytes, byteString, fromBase64Url, toBase64Url, toHex } from "./encoding.ts";
export {
  EnvelopeError,
  openEnvelope,
  peekEnvelopePayload,
  type SignedPurpose,
  signEnvelope,
} from "./envelope.ts";
export {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  importPublicKey,
  type KeyPair,
  keyFingerprint,
  SEALING_ALGORITHM,
  SIGNING_ALGORITHM,
} from "./keys.ts";
export {
  PASSPORT_VERSION,
  PassportError,
  type PassportPayload,
  type PinnedKey,
  passportPayloadSchema,
  RACK_STATUSES,
  type RackStatus,
  signPassport,
  verifyPassport,
} from "./passport.ts";
export { openSealedSecret, SECRET_NAME, type SealedSecret, sealedSecretSchema, sealSecret } from "./seal.ts";
