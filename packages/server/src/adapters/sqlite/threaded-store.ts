/**
 * The embedded store as a server runs it: every write (and the update log's reads, see
 * pending-log.ts) on a thread of its own, other reads on the caller's thread, which also keeps
 * the log bounds the writer thread told it of (log-bounds-mirror.ts).
 *
 * Why: a message's durable commit costs the thread that runs it about 40% of that message's
 * whole server-side work (statements, COMMIT, pragmas; docs/benchmarks.md), and on the event
 * loop that time is taken from every socket. On the writer thread it overlaps with the event
 * loop's parsing, fan-out and socket writes instead. One thread does all writes, so SQLite still
 * has exactly one writer and the writer's caches (log heads, member lists, the pending log) stay
 * exact; other reads (history, lookups) take WAL snapshots on a read-only connection here,
 * without a hop, and see every write whose promise has resolved, since the writer replies only
 * after its commit.
 */
import type { Store } from '../../ports/store.js';
import { LogBoundsMirror } from './log-bounds-mirror.js';
import { SqliteReader } from './reader.js';
import { routeStore, type WriterSide } from './routes.js';
import { openSqliteStoreHere } from './sqlite-store.js';
import { SqliteWriterThread } from './threads.js';
import type { SqliteStoreOptions } from './options.js';
import { decodeResults, encodeBatch } from './writer-protocol.js';

/**
 * Opens the embedded store: for a file, writes on the writer thread and reads here; ':memory:'
 * (one connection's private database) cannot be shared and stays on this thread. If the writer
 * thread dies, every write fails with `unavailable` from then on and `onWriterLost` is told, so
 * the server can exit and be restarted rather than serve reads only.
 */
export async function openSqliteStore(
  options: SqliteStoreOptions,
  onWriterLost: (reason: string) => void = () => undefined,
): Promise<Store> {
  if (options.path === ':memory:') return openSqliteStoreHere(options);
  const bounds = new LogBoundsMirror();
  const thread = await SqliteWriterThread.start(options, onWriterLost, (news) => bounds.committed(news));
  let opened: ReturnType<typeof SqliteReader.open>;
  try {
    opened = SqliteReader.open(options.path);
  } catch (error) {
    await thread.close();
    throw error;
  }
  return routeStore(writerOnThread(thread, bounds), opened.reader, async () => {
    await thread.close();
    opened.close();
  });
}

/**
 * The writer's methods as calls posted to the writer thread (writer-worker.ts), but for the
 * log bounds the server's thread already knows (log-bounds-mirror.ts).
 */
function writerOnThread(thread: SqliteWriterThread, bounds: LogBoundsMirror): WriterSide {
  return {
    createUser: (...args) => thread.call('createUser', args),
    updateProfile: (...args) => thread.call('updateProfile', args),
    createDevice: (...args) => thread.call('createDevice', args),
    touchDevice: (...args) => thread.call('touchDevice', args),
    revokeDevice: (...args) => thread.call('revokeDevice', args),
    setLastSeen: (...args) => thread.call('setLastSeen', args),
    changeAccount: (...args) => thread.call('changeAccount', args),
    deleteAccount: (...args) => thread.call('deleteAccount', args),
    createInvite: (...args) => thread.call('createInvite', args),
    revokeInvite: (...args) => thread.call('revokeInvite', args),
    changeBlock: (...args) => thread.call('changeBlock', args),
    changeFriendPair: (...args) => thread.call('changeFriendPair', args),
    getOrCreateDm: (...args) => thread.call('getOrCreateDm', args),
    createGroup: (...args) => thread.call('createGroup', args),
    changeChannel: (...args) => thread.call('changeChannel', args),
    moveReadCursor: (...args) => thread.call('moveReadCursor', args),
    // The hot call crosses in a compact form of its own (writer-protocol.ts).
    appendMessages: async (batch) => {
      const { wire, transfer } = encodeBatch(batch);
      return decodeResults(await thread.callAppendMessages(wire, transfer), batch);
    },
    editMessage: (...args) => thread.call('editMessage', args),
    deleteMessage: (...args) => thread.call('deleteMessage', args),
    addReaction: (...args) => thread.call('addReaction', args),
    removeReaction: (...args) => thread.call('removeReaction', args),
    appendLog: (...args) => thread.call('appendLog', args),
    readLog: (...args) => thread.call('readLog', args),
    logBounds: async (userId) => {
      const known = bounds.get(userId);
      if (known !== undefined) return known;
      const askedAt = bounds.epoch;
      const answer = await thread.call('logBounds', [userId]);
      bounds.learn(userId, answer, askedAt);
      return answer;
    },
    trimLog: (...args) => thread.call('trimLog', args),
    savePushSubscription: (...args) => thread.call('savePushSubscription', args),
    deletePushSubscription: (...args) => thread.call('deletePushSubscription', args),
    deleteDevicePushSubscriptions: (...args) => thread.call('deleteDevicePushSubscriptions', args),
    enqueuePush: (...args) => thread.call('enqueuePush', args),
    claimPush: (...args) => thread.call('claimPush', args),
    completePush: (...args) => thread.call('completePush', args),
    retryPush: (...args) => thread.call('retryPush', args),
    markPushSent: (...args) => thread.call('markPushSent', args),
    trimPushSent: (...args) => thread.call('trimPushSent', args),
    setChannelMuted: (...args) => thread.call('setChannelMuted', args),
    setPushPreviews: (...args) => thread.call('setPushPreviews', args),
  };
}
