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
  PushNotConfigured: 'push_not_configured',
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
  push_not_configured: 501,
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
 * What a client does after the socket closed with a given code:
 * - `reconnect`: reconnect soon (after a short jittered delay), resuming with `since`;
 * - `backoff`: reconnect later, the delay growing with each failed attempt (the server or a
 *   dependency cannot serve right now, or the client sent something the server refused);
 * - `stop`: do not reconnect until the user acts (log in again, fix the client).
 */
export type CloseBehaviour = 'reconnect' | 'backoff' | 'stop';

/**
 * WebSocket close codes: the standard ones the server (or the WebSocket stack) produces, and
 * Parley's own. docs/protocol.md lists every one; a test keeps the two in step.
 */
export const CloseCode = {
  /** Normal closure by either side (the client closing, or logging out). */
  Normal: 1000,
  /** Server shutting down or restarting: reconnect (through discovery). */
  GoingAway: 1001,
  /** The peer broke the WebSocket framing rules (bad opcode, unmasked frame, reserved bits). */
  ProtocolViolation: 1002,
  /** No close frame came with the close (the browser reports this; never sent). */
  NoStatus: 1005,
  /** The connection dropped without a close frame (the browser reports this; never sent). */
  Abnormal: 1006,
  /** A text frame that is not valid UTF-8. */
  InvalidPayload: 1007,
  /** A frame above the size limit. */
  TooBig: 1009,
  /** The server failed unexpectedly (a bug; it logged it). */
  InternalError: 1011,
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
  /** Storage or another dependency is unavailable right now; the session is intact. Reconnect later. */
  Unavailable: 4100,
  /** This account already holds the most sockets a gateway allows it. Reconnect later. */
  TooManySockets: 4101,
  /** More frames (or bytes) sent between hello and ready than the server holds. Reconnect later. */
  TooMuchBeforeReady: 4102,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Close-code ranges and what a client does for a code in each; the first matching row wins, so
 * the single codes above a range are its exceptions. Codes Parley does not know yet fall into
 * their range, so a future code needs no client update.
 */
export const closeCodeRanges: readonly { from: number; to: number; behaviour: CloseBehaviour }[] = [
  { from: 1000, to: 1000, behaviour: 'stop' },
  { from: 1001, to: 1001, behaviour: 'reconnect' },
  { from: 1002, to: 3999, behaviour: 'backoff' },
  // 4001 and 4002 are v1's terminal codes and keep their numbers.
  { from: 4001, to: 4002, behaviour: 'stop' },
  { from: 4000, to: 4099, behaviour: 'reconnect' },
  { from: 4100, to: 4199, behaviour: 'backoff' },
  { from: 4400, to: 4499, behaviour: 'stop' },
  { from: 0, to: Number.MAX_SAFE_INTEGER, behaviour: 'backoff' },
];

/** What a client does after the server closed with this code (see `closeCodeRanges`). */
export function closeBehaviour(code: number): CloseBehaviour {
  return closeCodeRanges.find((range) => code >= range.from && code <= range.to)?.behaviour ?? 'backoff';
}

/** Whether a client should reconnect at all after the server closed with this code. */
export function shouldReconnect(code: number): boolean {
  return closeBehaviour(code) !== 'stop';
}

/** The close code that ends a session refused with this error (after an `error` frame with the code). */
export function closeCodeFor(code: ErrorCode): CloseCode {
  switch (code) {
    case 'unauthorized':
      return CloseCode.Unauthorized;
    case 'invalid_request':
      return CloseCode.ProtocolError;
    case 'internal':
      return CloseCode.InternalError;
    default:
      return CloseCode.Unavailable;
  }
}
