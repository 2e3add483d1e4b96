/**
 * The one mapping from anything thrown to the ChatError a client sees. The HTTP error handler,
 * the framework's own errors, the gateway's hello and every frame handler go through
 * `toChatError`, so a storage failure reads `unavailable` (retryable) on every path, and only
 * a token that was looked up and found unknown or revoked reads `unauthorized`.
 */
import { ChatError, type ErrorCode } from '@parley/protocol';
import { StoreError } from '../ports/store.js';

export { ChatError };

export function fail(code: ErrorCode, message: string): never {
  throw new ChatError(code, message);
}

/**
 * Any thrown value as a ChatError:
 * - a ChatError is itself;
 * - a StoreError by its kind (`unavailable` when storage failed, timed out or lost its connection);
 * - an error carrying an HTTP `statusCode` (the web framework's and the HTTP parser's own:
 *   malformed URL, oversized headers, bad body) by that status;
 * - anything else is `internal` (a bug; the caller logs it, with the original as `cause`).
 */
export function toChatError(error: unknown, notFoundMessage = 'not found'): ChatError {
  if (error instanceof ChatError) return error;
  if (error instanceof StoreError) return fromStoreError(error, notFoundMessage);
  const status = statusOf(error);
  if (status !== undefined) return fromHttpStatus(status, error);
  return new ChatError('internal', 'internal error', { cause: error });
}

function fromStoreError(error: StoreError, notFoundMessage: string): ChatError {
  switch (error.kind) {
    case 'conflict':
      return new ChatError('conflict', error.message, { cause: error });
    case 'not_found':
      return new ChatError('not_found', notFoundMessage, { cause: error });
    case 'unavailable':
      return new ChatError('unavailable', 'storage is unavailable, try again', { cause: error });
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

/** The framework's messages name the cause (e.g. "Request body is too large"); they hold no secrets. */
function fromHttpStatus(status: number, error: unknown): ChatError {
  const message = error instanceof Error ? error.message : `HTTP ${status}`;
  switch (status) {
    case 404:
      return new ChatError('not_found', message, { cause: error });
    case 413:
      return new ChatError('payload_too_large', message, { cause: error });
    case 414: // a path parameter over the router's length limit: no valid id is that long
      return new ChatError('invalid_request', 'a path parameter is too long', { cause: error });
    case 431:
      return new ChatError('payload_too_large', 'the request headers are too large', { cause: error });
    case 415:
      return new ChatError('invalid_request', 'send JSON with content-type application/json', { cause: error });
    case 429:
      return new ChatError('rate_limited', message, { cause: error });
    case 503:
      return new ChatError('unavailable', message, { cause: error });
  }
  if (status < 500) return new ChatError('invalid_request', message, { cause: error });
  return new ChatError('internal', 'internal error', { cause: error });
}

/** Runs a store call, translating its StoreErrors (other errors pass through unchanged). */
export async function storeCall<T>(work: Promise<T>, notFoundMessage?: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof StoreError) throw toChatError(error, notFoundMessage);
    throw error;
  }
}
