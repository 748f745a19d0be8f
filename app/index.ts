/**
 * The package's server entry (`import { startFerry } from 'ferry-relay'`): Ferry embedded in a
 * Node process instead of run by the `ferry` command. Load a config file (or validate an object),
 * start, stop:
 *
 *   const ferry = await startFerry(await loadConfig('ferry.json'));
 *   console.log(ferry.signalingAddress(), ferry.listening());
 *   await ferry.stop();
 *
 * The client SDK is `ferry-relay/client` and the webhook signature check `ferry-relay/webhooks`:
 * neither loads the server.
 */
export { startFerry, type FerryHandle, type Listener } from './ferry.js';
export { readTlsFiles } from './relay-options.js';
export { ConfigError, loadConfig, parseConfig, MEMORY_STORAGE, type LoadedConfig } from '../src/config/load.js';
export type { ConfigProblem } from '../src/config/errors.js';
export type { HostPort, PortRange } from '../src/config/net.js';
export { LOG_LEVELS, type Config, type ConfigInput, type LogLevel } from '../src/config/schema.js';
export type { ConfigDiff } from '../src/config/reload.js';
export { createLogger, type Logger } from '../src/logger.js';
export { AccountError } from '../src/accounts/errors.js';
export type { AccountService } from '../src/accounts/service.js';
export type { TlsCredentials } from '../turn/index.js';
