/**
 * The delivery guarantees end to end, against the built server as a child process that is
 * SIGKILLed and restarted mid-stream while client sockets are destroyed under load.
 * Needs packages/server/dist (npm run build).
 */
import { spawnServerProcess } from '@parley/server';
import type { ServerProcess } from '@parley/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorage } from '../src/node.js';
import type { Channel, OutboxMessage, User } from '../src/node.js';
import { Device, deliveryProblem, tempDirs, uniqueName, waitFor } from './helpers.js';

let server: ServerProcess;
let serverUp = false;
const devices: Device[] = [];

beforeAll(async () => {
  server = await spawnServerProcess({
    env: { PARLEY_HEARTBEAT_MS: '300', PARLEY_HEARTBEAT_TIMEOUT_MS: '3000', PARLEY_LOG_LEVEL: 'error' },
  });
  serverUp = true;
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.client.close()));
  await server?.cleanup();
  await tempDirs.removeAll();
});

function device(options: ConstructorParameters<typeof Device>[1] = {}): Device {
  const d = new Device(server.baseUrl, options);
  devices.push(d);
  return d;
}

async function crash(): Promise<void> {
  serverUp = false;
  await server.kill('SIGKILL');
}
async function restart(): Promise<void> {
  await server.restart();
  serverUp = true;
}
const allOnline = (ds: Device[]) => waitFor(() => ds.every((d) => d.client.state === 'online'), 'reconnects');

/** Collects the server ids of everything `d` sent, from its outbox events. */
function trackSent(d: Device, sink: Map<string, OutboxMessage>): void {
  d.client.on('outbox', (m) => {
    if (m.state !== 'pending') sink.set(m.clientMsgId, m);
  });
}

describe('delivery under failure', () => {
  it('delivers every message exactly once and in channel order through SIGKILLs and dropped sockets', async () => {
    const storageDir = await tempDirs.make();
    const password = 'correct horse';
    const aliceName = uniqueName('alice');
    const bobName = uniqueName('bob');
    const a1 = device();
    const a2 = device();
    const b1 = device();
    const alice: User = (await a1.client.signup({ username: aliceName, password })).user;
    await a2.client.login({ username: aliceName, password });
    const bob: User = (await b1.client.signup({ username: bobName, password })).user;
    // Bob's second device keeps its position in files and is restarted half-way.
    let b2 = device({ storage: new FileStorage(storageDir) });
    await b2.client.login({ username: bobName, password });
    const b2Received = () => devices.filter((d) => d.client.userId === bob.id && d !== b1).flatMap((d) => d.received);

    const dm: Channel = await a1.client.api.openDm(bob.id);
    const group: Channel = await b1.client.api.createGroup({ name: 'chaos', memberIds: [alice.id] });
    const channels = [dm, group];
    await Promise.all([a1, a2, b1, b2].map((d) => d.client.connect()));

    const settled = new Map<string, OutboxMessage>();
    const senders = [a1, a2, b1];
    for (const d of senders) trackSent(d, settled);
    const reconnects = new Map<Device, number>(senders.map((d) => [d, 0]));
    for (const d of senders) {
      d.client.connection.subscribe((state) => {
        if (state === 'reconnecting') reconnects.set(d, (reconnects.get(d) ?? 0) + 1);
      });
    }
    let queuedWhileDown = 0;

    const total = 300;
    for (let i = 0; i < total; i++) {
      const sender = senders[i % senders.length]!;
      const channel = channels[Math.floor(i / 7) % channels.length]!;
      sender.client.send(channel.id, `message ${i} from ${sender.client.userId}`);
      if (i % 10 === 9 && serverUp) {
        // Keep the stream flowing rather than queueing everything up front.
        await waitFor(() => settled.size >= i - 40, `acks to catch up at ${i}`);
      }
      if (i === 60) await b2.client.close(); // b2 goes away with its seq on disk
      // Each failure hits live connections (the ones before it have healed).
      if ([90, 170, 200, 230].includes(i)) await allOnline(senders);
      if (i === 90) await crash();
      if (i === 130) {
        queuedWhileDown = senders.reduce((n, d) => n + d.client.outbox.length, 0);
        await restart();
        await allOnline(senders);
      }
      if (i === 170 || i === 230) {
        const before = senders.map((d) => reconnects.get(d) ?? 0);
        for (const d of senders) d.dropNetwork();
        await waitFor(() => senders.every((d, k) => (reconnects.get(d) ?? 0) > before[k]!), 'the drops to be noticed');
      }
      if (i === 200) await crash();
      if (i === 210) {
        await restart();
        await allOnline(senders);
      }
      if (i === 260) {
        b2 = device({ storage: new FileStorage(storageDir) });
        expect(await b2.client.resume()).toMatchObject({ userId: bob.id });
        void b2.client.connect();
      }
    }

    await waitFor(
      () => settled.size === total,
      () => `all ${total} sent (have ${settled.size})`,
      30_000,
    );
    // The failures really happened: every sender lost its connection at least four times, and
    // messages piled up in the outboxes while the server was down.
    for (const d of senders) expect(reconnects.get(d)).toBeGreaterThanOrEqual(4);
    expect(queuedWhileDown).toBeGreaterThanOrEqual(40);
    const failed = [...settled.values()].filter((m) => m.state === 'failed');
    expect(failed).toEqual([]);

    const expected = new Map<string, Set<string>>(channels.map((c) => [c.id, new Set<string>()]));
    for (const m of settled.values()) expected.get(m.channelId)!.add(m.messageId!);
    expect(new Set([...settled.values()].map((m) => m.messageId)).size).toBe(total);

    for (const d of [a1, a2, b1]) {
      await waitFor(
        () => d.received.length >= total,
        () => `${d.received.length}/${total} delivered`,
        30_000,
      );
    }
    await waitFor(
      () => b2Received().length >= total,
      () => `b2: ${b2Received().length}/${total} delivered`,
      30_000,
    );
    for (const d of [a1, a2, b1]) {
      expect(deliveryProblem(d, expected)).toBeUndefined();
      expect(d.received).toHaveLength(total);
    }
    // Bob's restarted device: the two runs together saw every message exactly once, in order.
    const combined = new Device(server.baseUrl);
    combined.received.push(...b2Received());
    expect(deliveryProblem(combined, expected)).toBeUndefined();
    expect(combined.received).toHaveLength(total);
  }, 60_000);

  it('keeps unsent messages across a client restart through the file storage', async () => {
    const storageDir = await tempDirs.make();
    const password = 'correct horse';
    const first = device({ storage: new FileStorage(storageDir) });
    const bob = device();
    const alice = (await first.client.signup({ username: uniqueName('alice'), password })).user;
    const bobUser = (await bob.client.signup({ username: uniqueName('bob'), password })).user;
    const dm = await first.client.api.openDm(bobUser.id);
    await Promise.all([first.client.connect(), bob.client.connect()]);

    await crash();
    await waitFor(() => first.client.state === 'reconnecting', 'the client to notice the crash');
    const queued = [1, 2, 3, 4, 5].map((n) => first.client.send(dm.id, `offline ${n}`).clientMsgId);
    await first.client.close(); // the app quits with five unsent messages

    await restart();
    const second = device({ storage: new FileStorage(storageDir) });
    expect(await second.client.resume()).toMatchObject({ userId: alice.id });
    expect(second.client.outbox.map((m) => [m.clientMsgId, m.state])).toEqual(queued.map((id) => [id, 'pending']));
    await second.client.connect();
    const results = await Promise.all(queued.map((id) => second.client.settled(id)));
    expect(results.map((m) => m?.state)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect(second.client.outbox).toEqual([]);

    await waitFor(() => bob.received.length >= 5, 'bob to get the five');
    expect(bob.received.map((m) => m.text)).toEqual([1, 2, 3, 4, 5].map((n) => `offline ${n}`));
    expect(bob.received.map((m) => m.clientMsgId)).toEqual(queued);
  }, 30_000);
});
