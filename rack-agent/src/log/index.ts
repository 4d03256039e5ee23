export { rackLogFile, rackLoggerFromConfig } from "./from-config.ts";
export { createRackLogger, type LogAttributes, type Logger, type RackLogger } from "./logger.ts";
