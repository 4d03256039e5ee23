/** What an operator can do to a rack (`POST /api/v1/racks/{id}/<action>`), and the status each leads to. */
export const RACK_ACTIONS = { approve: "active", suspend: "suspended", revoke: "revoked" } as const;
export type RackAction = keyof typeof RACK_ACTIONS;
