/**
 * @parley/client/node: everything from "@parley/client", with `ws` as the default WebSocket
 * and a FileStorage. Do not import this from browser code.
 */
import WebSocket from 'ws';
import { ParleyClient as BaseClient } from './client.js';
import type { ClientOptions } from './client.js';
import type { WebSocketFactory, WebSocketLike } from './transport.js';

export * from './index.js';
export { FileStorage } from './file-storage.js';

/** Opens sockets with the `ws` package. */
export const wsFactory: WebSocketFactory = (url) => new WebSocket(url) as unknown as WebSocketLike;

/** ParleyClient that uses `ws` unless `options.webSocket` says otherwise. */
export class ParleyClient extends BaseClient {
  constructor(options: ClientOptions) {
    super({ webSocket: wsFactory, ...options });
  }
}
