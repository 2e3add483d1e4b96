export { createServer, type Backends, type ParleyServer } from './app.js';
export { loadConfig, ConfigError, type ServerConfig, type Role } from './config/config.js';
export {
  startServer,
  spawnServerProcess,
  freePort,
  type RunningServer,
  type ServerProcess,
  type StartOptions,
} from './testing.js';
export { SnowflakeGenerator, decodeId } from './domain/ids.js';
export { indexTokens } from './domain/search-text.js';
export { NODE_FLAGS } from './node-flags.js';
