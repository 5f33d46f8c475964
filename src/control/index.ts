/** The control channel: what the daemon and the CLI import. */
export { createControlServer, CONTROL_DEFAULTS, type ControlServer, type ControlServerOptions } from './server.js';
export { controlRequest, ControlClientError, connectError } from './client.js';
export { registerControlCommands } from './cli.js';
export * from './protocol.js';
