import { expect, it } from 'vitest';
import type { AppendResult, NewMessage, Store } from '../ports/store.js';
import type { EventRouter } from './events.js';
import { MessageService } from './messages.js';

/** A store whose commits finish when the test says so, in any order. */
function controlledStore() {
  const commits: { batch: readonly NewMessage[]; finish: () => void }[] = [];
  const store = {
    appendMessages: (batch: readonly NewMessage[]) =>
      new Promise<AppendResult[]>((resolve) => {
        const results = batch.map((m): AppendResult => ({
          status: 'created',
          message: { ...m },
          entries: [{ userId: m.senderId, seq: Number(m.id), type: 'message.created', createdAt: m.createdAt }],
        }));
        commits.push({ batch, finish: () => resolve(results) });
      }),
  } as Partial<Store> as Store;
  return { store, commits };
}

function service(store: Store, published: string[][], commitsInFlight: number) {
  const events = {
    publishMessages: async (created: readonly { message: { text: string } }[]) => {
      published.push(created.map((c) => c.message.text));
    },
  } as Partial<EventRouter> as EventRouter;
  let id = 0;
  const log = { warn: () => undefined, error: () => undefined };
  return new MessageService(
    store,
    events,
    { next: () => String(++id), nodeId: 1 },
    { now: () => 0 },
    { sendRatePerSecond: 1000, sendBurst: 1000, commitBatchMax: 512, commitIntervalMs: 0, commitsInFlight },
    log,
  );
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('starts the next commit while the previous one is still under way, up to commitsInFlight', async () => {
  const { store, commits } = controlledStore();
  const messages = service(store, [], 2);
  for (const text of ['a', 'b', 'c']) {
    void messages.send('1', 'd1', { channelId: '9', text, clientMsgId: text });
    await turn();
  }
  expect(commits.map((c) => c.batch.map((m) => m.text))).toEqual([['a'], ['b']]);
  commits[0]!.finish();
  await turn();
  await turn();
  expect(commits.map((c) => c.batch.map((m) => m.text))).toEqual([['a'], ['b'], ['c']]);
});

it('settles batches in the order they were taken, even when a later commit finishes first', async () => {
  const { store, commits } = controlledStore();
  const published: string[][] = [];
  const messages = service(store, published, 2);
  const acked: string[] = [];
  const first = messages.send('1', 'd1', { channelId: '9', text: 'first', clientMsgId: 'x' }).then((m) => {
    acked.push(m.text);
  });
  await turn();
  const second = messages.send('1', 'd1', { channelId: '9', text: 'second', clientMsgId: 'y' }).then((m) => {
    acked.push(m.text);
  });
  await turn();
  expect(commits).toHaveLength(2);

  commits[1]!.finish();
  await turn();
  expect(published).toEqual([]);
  expect(acked).toEqual([]);

  commits[0]!.finish();
  await Promise.all([first, second]);
  expect(published).toEqual([['first'], ['second']]);
  expect(acked).toEqual(['first', 'second']);
});

it('commits one batch at a time when commitsInFlight is 1', async () => {
  const { store, commits } = controlledStore();
  const messages = service(store, [], 1);
  for (const text of ['a', 'b']) {
    void messages.send('1', 'd1', { channelId: '9', text, clientMsgId: text });
    await turn();
  }
  expect(commits).toHaveLength(1);
  commits[0]!.finish();
  await turn();
  await turn();
  expect(commits.map((c) => c.batch.map((m) => m.text))).toEqual([['a'], ['b']]);
});
