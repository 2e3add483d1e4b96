/**
 * Stable, machine-readable error codes. Clients branch on `code`, never on the message text.
 * docs/protocol.md lists every code; a test keeps the two in step.
 */
export const ErrorCode = {
  InvalidRequest: 'invalid_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  MessageTooLong: 'message_too_long',
  GroupFull: 'group_full',
  RateLimited: 'rate_limited',
  ResyncRequired: 'resync_required',
  PayloadTooLarge: 'payload_too_large',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status that goes with each code. */
export const errorStatus: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  message_too_long: 413,
  group_full: 409,
  rate_limited: 429,
  resync_required: 410,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** Codes worth retrying unchanged later; every other code is permanent for that request. */
export const retryableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['rate_limited', 'unavailable', 'internal']);

/** The JSON body of every HTTP error. */
export interface ErrorBody {
  /** `retryAfterMs`: with `rate_limited`, how long to wait before trying again. */
  error: { code: ErrorCode; message: string; retryAfterMs?: number };
}

/** A typed error carrying a stable code; thrown by the server's domain and by the SDK. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  readonly status: number;
  /** With `rate_limited`: how long to wait before trying again, when the server said. */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.status = errorStatus[code];
    this.retryAfterMs = options?.retryAfterMs;
  }
  get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(errorStatus, value);
}

/**
 * WebSocket close codes. 4000-4099 mean "reconnect with backoff", 4100-4199 mean "do not
 * reconnect until the user acts" (4001 is the historical exception: unauthorized is terminal).
 */
export const CloseCode = {
  /** Normal closure by either side. */
  Normal: 1000,
  /** Server shutting down or restarting: reconnect (through discovery). */
  GoingAway: 1001,
  /** A frame above the size limit. */
  TooBig: 1009,
  /** No ping within the heartbeat timeout. Reconnect. */
  HeartbeatTimeout: 4000,
  /** Bad or revoked token (also sent after logout). Terminal: log in again. */
  Unauthorized: 4001,
  /** The first frame was not a valid hello. Terminal for this connection attempt. */
  ProtocolError: 4002,
  /** The client read too slowly and its queue overflowed. Reconnect with `since`. */
  SlowConsumer: 4008,
  /** No hello within the hello timeout. Reconnect. */
  HelloTimeout: 4009,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a client should reconnect after the server closed with this code. */
export function shouldReconnect(code: number): boolean {
  return code !== CloseCode.Unauthorized && code !== CloseCode.ProtocolError && code !== CloseCode.Normal;
}
