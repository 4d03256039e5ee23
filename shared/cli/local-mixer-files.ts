/**
 * Files the local mixer (`fluxrig-mixer dev`) keeps under its `store.dir`, mode 0600, which the `fluxrig`
 * CLI on the same machine reads so an operator need not copy tokens around.
 */
export const LOCAL_API_TOKEN_FILE = "api-token";
export const LOCAL_BOOTSTRAP_TOKEN_FILE = "bootstrap-token";
