import { ChatError, type ErrorCode } from '@parley/protocol';
import { StoreError } from '../ports/store.js';

export { ChatError };

export function fail(code: ErrorCode, message: string): never {
  throw new ChatError(code, message);
}

/** Translates a StoreError into the ChatError the API shows; anything else passes through. */
export function translateStoreError(error: unknown, notFoundMessage = 'not found'): never {
  if (error instanceof StoreError) {
    switch (error.kind) {
      case 'conflict':
        throw new ChatError('conflict', error.message, { cause: error });
      case 'not_found':
        throw new ChatError('not_found', notFoundMessage, { cause: error });
      case 'group_full':
        throw new ChatError('group_full', error.message, { cause: error });
      case 'unavailable':
        throw new ChatError('unavailable', 'storage is unavailable, try again', { cause: error });
    }
  }
  throw error;
}

/** Runs a store call, translating its StoreErrors. */
export async function storeCall<T>(work: Promise<T>, notFoundMessage?: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    translateStoreError(error, notFoundMessage);
  }
}
