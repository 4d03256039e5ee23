/** The bus's decentralized auth (nats-server operator mode): keys, JWTs, permissions. Web APIs only. */
export { CLAIMS_UPDATE_SUBJECT, pushAccountJwt } from "./account-update.ts";
export {
  accountJwt,
  FLUXRIG_ACCOUNT_NAME,
  mixerUser,
  operatorJwt,
  REVOKED_FOREVER,
  systemAccountJwt,
  systemUser,
  type UserClaims,
  userJwt,
} from "./claims.ts";
export { generateNatsKeys, NATS_KEYS_SECRET, type NatsKeys, natsKeysSchema, parseNatsKeys } from "./keys.ts";
export {
  ENROLLMENT_INBOX_PREFIX,
  emitPermissions,
  enrollmentPermissions,
  type RackBusScope,
  rackInboxPrefix,
  rackPermissions,
  rackStandbyPermissions,
} from "./permissions.ts";
export { operatorModeConfig } from "./server-config.ts";
