export { run, exitCodes } from './cli.js';
export type { CliIo } from './cli.js';
