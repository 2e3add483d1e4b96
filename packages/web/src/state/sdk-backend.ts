/** The Backend interface on top of @parley/client's ParleyClient. */
import { ChatError } from '@parley/protocol';
import type { OutboxMessage, ParleyClient } from '@parley/client';
import type { Backend, BackendEvents, OutboxItem } from './backend';

type Listeners = { [K in keyof BackendEvents]: Set<(value: BackendEvents[K]) => void> };

function toItem(m: OutboxMessage): OutboxItem | undefined {
  if (m.state === 'sent') return undefined;
  const item: OutboxItem = {
    clientMsgId: m.clientMsgId,
    channelId: m.channelId,
    text: m.text,
    state: m.state,
    queuedAt: m.queuedAt,
  };
  if (m.error) item.error = m.error;
  return item;
}

export function sdkBackend(client: ParleyClient, userId: string): Backend {
  const listeners: Listeners = {
    event: new Set(),
    presence: new Set(),
    typing: new Set(),
    read: new Set(),
    user: new Set(),
    connection: new Set(),
    outbox: new Set(),
    sent: new Set(),
    ready: new Set(),
    unauthorized: new Set(),
  };
  const emit = <K extends keyof BackendEvents>(type: K, value: BackendEvents[K]) => {
    for (const l of [...listeners[type]]) (l as (v: BackendEvents[K]) => void)(value);
  };
  const outbox = () => client.outbox.map(toItem).filter((m): m is OutboxItem => !!m);
  let resynced = false;
  const offs: (() => void)[] = [];
  let started = false;

  return {
    api: client.api,
    userId,
    on(type, listener) {
      const set = listeners[type] as Set<typeof listener>;
      set.add(listener);
      return () => set.delete(listener);
    },
    connection: () => client.state,
    start() {
      if (started) return;
      started = true;
      offs.push(
        client.on('event', (e) => emit('event', e)),
        client.on('presence', (p) => emit('presence', p)),
        client.on('typing', (t) => emit('typing', t)),
        client.on('read', (r) => emit('read', r)),
        client.on('user', (u) => emit('user', u)),
        client.connection.subscribe((s) => emit('connection', s)),
        client.on('outbox', (m) => {
          if (m.state === 'sent' && m.messageId && m.createdAt) {
            emit('sent', {
              clientMsgId: m.clientMsgId,
              channelId: m.channelId,
              text: m.text,
              messageId: m.messageId,
              createdAt: m.createdAt,
            });
          }
          emit('outbox', outbox());
        }),
        client.on('resync', () => {
          resynced = true;
        }),
        client.on('ready', () => {
          // `resync` (if any) fires right after `ready`; report both together.
          queueMicrotask(() => {
            emit('ready', { resynced });
            resynced = false;
          });
        }),
        // Only `unauthorized` ends the session. Everything else (e.g. `unavailable` while the
        // server's storage is down) the SDK retries itself, keeping the session.
        client.on('error', (error) => {
          if (error instanceof ChatError && error.code === 'unauthorized') emit('unauthorized', undefined);
        }),
      );
      // The SDK reconnects by itself, and at once when the browser says the network is back.
      client.connect().catch(() => {
        // terminal errors arrive through the `error` event
      });
    },
    reconnectNow: () => client.reconnect(),
    send(channelId, text, replyToId) {
      client.send(channelId, text, replyToId === undefined ? {} : { replyToId });
    },
    changeMessage(change) {
      if (change.kind === 'edit') client.edit(change.channelId, change.messageId, change.text);
      else if (change.kind === 'delete') client.delete(change.channelId, change.messageId);
      else if (change.kind === 'react') client.react(change.channelId, change.messageId, change.emoji);
      else client.unreact(change.channelId, change.messageId, change.emoji);
    },
    retry(clientMsgId) {
      client.retry(clientMsgId);
      emit('outbox', outbox());
    },
    discard(clientMsgId) {
      client.discard(clientMsgId);
      emit('outbox', outbox());
    },
    outbox,
    markRead(channelId, messageId) {
      client.markRead(channelId, messageId).catch(() => {
        // the next read moves the cursor further anyway
      });
    },
    typing: (channelId) => client.typing(channelId),
    async close(options) {
      for (const off of offs.splice(0)) off();
      if (options?.logout) await client.logout();
      else await client.close();
    },
  };
}
