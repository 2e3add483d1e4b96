/**
 * The WebSocket surface the SDK needs. The browser's WebSocket and the `ws` package both fit;
 * the Node entry ("@parley/client/node") supplies `ws`, the browser entry uses the global.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake (ws has it; browsers do not). */
  terminate?(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

/** WebSocket.OPEN in both implementations. */
export const OPEN = 1;

/** Uses the global WebSocket (browsers, Deno, Node 22+); undefined when there is none. */
export function globalWebSocketFactory(): WebSocketFactory | undefined {
  const Ctor = (globalThis as { WebSocket?: new (url: string) => unknown }).WebSocket;
  if (typeof Ctor !== 'function') return undefined;
  return (url) => new Ctor(url) as WebSocketLike;
}

const decoder = typeof TextDecoder === 'function' ? new TextDecoder() : undefined;

/** The text of a message event: a string from browsers and ws, bytes from some polyfills. */
export function frameText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (!decoder) return undefined;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return decoder.decode(data as Uint8Array);
  return undefined;
}
