/**
 * The writer thread: owns the one SqliteStore that writes (with its checkpoint thread and WAL
 * sync) and runs the calls the server's thread posts to it, one message per call. See
 * threaded-store.ts for why.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StoreError } from '../../ports/store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { decodeBatch, encodeResults, type WireBatch, type WriterReply, type WriterRequest } from './writer-protocol.js';

const port = parentPort!;
let store: SqliteStore;
try {
  store = new SqliteStore(workerData as SqliteStoreOptions);
  port.postMessage({ ready: true } satisfies WriterReply);
} catch (error) {
  port.postMessage({ failed: String(error) } satisfies WriterReply);
  process.exit(1);
}

async function run(request: WriterRequest): Promise<unknown> {
  if (request.method === 'appendMessages') {
    const { batch, encodedTexts } = decodeBatch(request.args[0] as WireBatch);
    return encodeResults(await store.appendMessages(batch, encodedTexts));
  }
  const method = store[request.method] as (...args: unknown[]) => Promise<unknown>;
  return method.apply(store, request.args);
}

port.on('message', (request: WriterRequest) => {
  if (request.method === 'close') {
    void store.close().finally(() => port.postMessage({ id: request.id, value: undefined } satisfies WriterReply));
    return;
  }
  run(request).then(
    (value) => port.postMessage({ id: request.id, value } satisfies WriterReply),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        error:
          error instanceof StoreError
            ? { kind: error.kind, message: error.message }
            : { message: error instanceof Error ? error.message : String(error) },
      } satisfies WriterReply),
  );
});
