/**
 * The writer thread: owns the one SqliteWriter that writes (with its checkpoint thread and WAL
 * sync) and runs the calls the server's thread posts to it, one message per call. See
 * threaded-store.ts for why.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StoreError } from '../../ports/store.js';
import { TurnBatch } from '../../turn-batch.js';
import type { SqliteStoreOptions } from './options.js';
import { SqliteWriter } from './writer.js';
import {
  decodeBatch,
  encodeResults,
  type CallReply,
  type RepliesMessage,
  type WireBatch,
  type WriterReply,
  type WriterRequest,
} from './writer-protocol.js';

const port = parentPort!;
let store: SqliteWriter;
try {
  store = new SqliteWriter(workerData as SqliteStoreOptions);
  store.reportLogNews();
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
  // Only writer methods can be named (WriterRequest), so nothing posted here reaches a reader.
  return Reflect.apply(store[request.method], store, request.args) as Promise<unknown>;
}

/**
 * Replies not yet posted: those of one incoming message go back together (see threads.ts), with
 * the update log's news up to now, which therefore reaches the server thread no later than the
 * reply to the write that made it.
 */
const replies = new TurnBatch<CallReply>((outcomes) =>
  port.postMessage({ replies: outcomes, ...store.takeLogNews() } satisfies RepliesMessage),
);

port.on('message', (requests: WriterRequest[]) => {
  // The replies of earlier calls never wait behind the work of later ones.
  replies.flush();
  for (const request of requests) {
    if (request.method === 'close') {
      void store.close().finally(() => replies.add({ id: request.id, value: undefined }));
      continue;
    }
    run(request).then(
      (value) => replies.add({ id: request.id, value }),
      (error: unknown) =>
        replies.add({
          id: request.id,
          error:
            error instanceof StoreError
              ? { kind: error.kind, message: error.message }
              : { message: error instanceof Error ? error.message : String(error) },
        }),
    );
  }
});
