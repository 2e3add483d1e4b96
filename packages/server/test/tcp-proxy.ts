/**
 * A TCP proxy a test controls, put in front of a real service (PostgreSQL) to make it
 * unreachable for a while without touching the service itself.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * - `refuse`: every connection is reset at once (the service is down: connection refused/reset);
 * - `blackhole`: connections are accepted and never answered (a network partition).
 * Either way the connections open at the moment of the cut are reset.
 */
export type CutMode = 'refuse' | 'blackhole';

export class TcpProxy {
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #cut: CutMode | undefined;
  #port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => this.#accept(client, target));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no port');
    proxy.#port = address.port;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  #accept(client: Socket, target: { host: string; port: number }): void {
    client.on('error', () => {});
    if (this.#cut === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    this.#open.add(client);
    client.once('close', () => this.#open.delete(client));
    if (this.#cut === 'blackhole') return; // held, never answered, reset at the next cut or restore
    const upstream = connect(target.port, target.host);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    this.#open.add(upstream);
    upstream.once('close', () => this.#open.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Makes the service unreachable: resets every open connection, then refuses or ignores new ones. */
  cut(mode: CutMode): void {
    this.#cut = mode;
    this.#resetAll();
  }

  /** Lets new connections through again (held blackholed ones are reset, as a partition ending would). */
  restore(): void {
    this.#cut = undefined;
    this.#resetAll();
  }

  #resetAll(): void {
    for (const socket of this.#open) socket.resetAndDestroy();
    this.#open.clear();
  }

  async close(): Promise<void> {
    this.#resetAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
