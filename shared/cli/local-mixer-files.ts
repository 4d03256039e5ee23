/**
 * Files the local mixer (`fluxrig-mixer dev`) keeps under its `store.dir`, mode 0600, which the `fluxrig`
 * CLI on the same machine reads so an operator need not copy tokens around.
 */
export const LOCAL_API_TOKEN_FILE = "api-token";
export const LOCAL_BOOTSTRAP_TOKEN_FILE = "bootstrap-token";
/**
 * NATS credentials (a `.creds` file) of a user that may only publish telemetry and journal records, made
 * afresh at each start under operator mode, for `fluxrig emit`.
 */
export const LOCAL_EMIT_CREDS_FILE = "emit.creds";
