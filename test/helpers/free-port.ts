export { freePort } from "../../mixer-worker/cli/dev/port-check.ts";
