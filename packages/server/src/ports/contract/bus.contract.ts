/**
 * The Bus contract (../bus.ts), run against every backend. A backend's test file calls
 * `describeBusContract(name, makeHarness, skip)`; the harness opens buses that share one
 * backend, each standing for one node of a fleet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../bus.js';
import { eventually, sleep } from './wait.js';

export interface BusHarness {
  /** A bus on the shared backend; each call is another node. */
  open(): Promise<Bus>;
  /** Closes every bus it opened and removes backend state (keys, channels). */
  cleanup(): Promise<void>;
  /**
   * An outage of the shared backend, as a restart or failover: every bus loses its connection
   * and the backend comes back empty (Redis: the server is killed and started again). Resolves
   * once the backend answers again, with whether messages could have been lost meanwhile
   * (false for a backend that cannot have an outage, such as the in-process one).
   */
  outage(): Promise<{ lossy: boolean }>;
}

export function describeBusContract(name: string, make: () => Promise<BusHarness>, skip: string | false = false): void {
  describe.skipIf(skip !== false)(`Bus contract: ${name}${skip ? ` (skipped: ${skip})` : ''}`, () => {
    let harness: BusHarness | undefined;
    const setup = async () => {
      harness = await make();
      return harness;
    };
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    /** Collects what a subscription receives. */
    const collector = () => {
      const got: string[] = [];
      return { got, handler: (payload: string) => void got.push(payload) };
    };

    it('delivers a message published on one node to a subscriber on another', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const seen: Array<[string, string]> = [];
      await b.subscribe('user.1', (payload, topic) => void seen.push([topic, payload]));
      await a.publish([{ topic: 'user.1', payload: 'hello' }]);
      await eventually(() => seen.length === 1, 2_000, 'delivery');
      expect(seen).toEqual([['user.1', 'hello']]);
    });

    it('delivers to a subscriber on the publishing node too', async () => {
      const h = await setup();
      const a = await h.open();
      const c = collector();
      await a.subscribe('t', c.handler);
      await a.publish([{ topic: 't', payload: 'x' }]);
      await eventually(() => c.got.length === 1);
      expect(c.got).toEqual(['x']);
    });

    it('keeps per-topic order for a single publisher, within and across publish calls', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const c = collector();
      await b.subscribe('ordered', c.handler);
      const expected: string[] = [];
      const pending: Promise<void>[] = [];
      let n = 0;
      for (let call = 0; call < 50; call++) {
        const batch = [];
        for (let i = 0; i < (call % 5) + 1; i++) {
          const payload = String(n++);
          expected.push(payload);
          batch.push({ topic: 'ordered', payload });
          batch.push({ topic: 'noise', payload });
        }
        // Not awaited one by one: calls in flight together must keep their order too.
        pending.push(a.publish(batch));
      }
      await Promise.all(pending);
      await eventually(() => c.got.length === expected.length, 5_000, 'all messages');
      expect(c.got).toEqual(expected);
    });

    it('gives every subscription its own copy, on one node and across nodes', async () => {
      const h = await setup();
      const [a, b, d] = [await h.open(), await h.open(), await h.open()];
      const c1 = collector();
      const c2 = collector();
      const c3 = collector();
      await b.subscribe('shared', c1.handler);
      await b.subscribe('shared', c2.handler);
      await d.subscribe('shared', c3.handler);
      await a.publish([
        { topic: 'shared', payload: '1' },
        { topic: 'shared', payload: '2' },
      ]);
      await eventually(() => c1.got.length === 2 && c2.got.length === 2 && c3.got.length === 2);
      expect([c1.got, c2.got, c3.got]).toEqual([
        ['1', '2'],
        ['1', '2'],
        ['1', '2'],
      ]);
    });

    it('counts the same function subscribed twice as two subscriptions', async () => {
      const h = await setup();
      const a = await h.open();
      const c = collector();
      const off1 = await a.subscribe('twice', c.handler);
      await a.subscribe('twice', c.handler);
      await a.publish([{ topic: 'twice', payload: 'p' }]);
      await eventually(() => c.got.length === 2);
      await off1();
      await a.publish([{ topic: 'twice', payload: 'q' }]);
      await eventually(() => c.got.length === 3);
      expect(c.got).toEqual(['p', 'p', 'q']);
    });

    it('keeps topics apart', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const onA = collector();
      const onB = collector();
      await b.subscribe('topic.a', onA.handler);
      await b.subscribe('topic.b', onB.handler);
      await a.publish([
        { topic: 'topic.a', payload: 'for a' },
        { topic: 'topic.c', payload: 'for nobody' },
        { topic: 'topic.b', payload: 'for b' },
      ]);
      await eventually(() => onA.got.length === 1 && onB.got.length === 1);
      await sleep(50);
      expect(onA.got).toEqual(['for a']);
      expect(onB.got).toEqual(['for b']);
    });

    it('stops delivering after unsubscribe, without touching other subscriptions', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const gone = collector();
      const stays = collector();
      const off = await b.subscribe('u', gone.handler);
      await b.subscribe('u', stays.handler);
      await a.publish([{ topic: 'u', payload: '1' }]);
      await eventually(() => gone.got.length === 1 && stays.got.length === 1);
      await off();
      await off(); // idempotent
      await a.publish([{ topic: 'u', payload: '2' }]);
      await eventually(() => stays.got.length === 2);
      await sleep(50);
      expect(gone.got).toEqual(['1']);
      expect(stays.got).toEqual(['1', '2']);
    });

    it('resubscribes after the last subscription of a topic went away', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const first = collector();
      const off = await b.subscribe('again', first.handler);
      await off();
      const second = collector();
      await b.subscribe('again', second.handler);
      await a.publish([{ topic: 'again', payload: 'x' }]);
      await eventually(() => second.got.length === 1);
      expect(first.got).toEqual([]);
    });

    it('keeps delivering to the others when a handler throws', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const c = collector();
      await b.subscribe('boom', () => {
        throw new Error('handler failure');
      });
      await b.subscribe('boom', c.handler);
      await a.publish([
        { topic: 'boom', payload: '1' },
        { topic: 'boom', payload: '2' },
      ]);
      await eventually(() => c.got.length === 2);
      expect(c.got).toEqual(['1', '2']);
    });

    it('carries payloads byte for byte: empty, Unicode, 400 kB', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const c = collector();
      await b.subscribe('bytes', c.handler);
      const payloads = ['', 'héllo 👋 世界 \u0000 "quoted" \n', JSON.stringify({ text: '𝄞'.repeat(100_000) })];
      await a.publish(payloads.map((payload) => ({ topic: 'bytes', payload })));
      await eventually(() => c.got.length === payloads.length);
      expect(c.got).toEqual(payloads);
    });

    it('accepts an empty batch and topics nobody listens to', async () => {
      const h = await setup();
      const a = await h.open();
      await a.publish([]);
      await a.publish([{ topic: 'nobody', payload: 'x' }]);
    });

    it('after an outage, subscribes again by itself, announces it once per bus, then delivers', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const announced = [0, 0];
      a.onReconnect(() => announced[0]!++);
      b.onReconnect(() => announced[1]!++);
      let removedCalled = 0;
      const remove = b.onReconnect(() => removedCalled++);
      remove();
      const onA = collector();
      const onB = collector();
      await a.subscribe('after.outage', onA.handler);
      await b.subscribe('after.outage', onB.handler);
      const { lossy } = await h.outage();
      if (lossy) await eventually(() => announced.every((n) => n >= 1), 10_000, 'reconnect announced on both buses');
      // Live again without a new subscribe, from either side.
      await a.publish([{ topic: 'after.outage', payload: 'from a' }]);
      await b.publish([{ topic: 'after.outage', payload: 'from b' }]);
      await eventually(() => onA.got.length === 2 && onB.got.length === 2, 5_000, 'delivery after the outage');
      expect(onB.got).toEqual(['from a', 'from b']);
      expect(onA.got).toEqual(['from a', 'from b']);
      await sleep(100);
      expect(announced).toEqual(lossy ? [1, 1] : [0, 0]);
      expect(removedCalled).toBe(0);
    });

    it('announces nothing while the backend stays up', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      let announced = 0;
      b.onReconnect(() => announced++);
      const c = collector();
      const off = await b.subscribe('steady', c.handler);
      await a.publish([{ topic: 'steady', payload: '1' }]);
      await eventually(() => c.got.length === 1);
      await off();
      await b.subscribe('steady', c.handler);
      await a.publish([{ topic: 'steady', payload: '2' }]);
      await eventually(() => c.got.length === 2);
      expect(announced).toBe(0);
    });

    it('stops delivering to a bus once it is closed', async () => {
      const h = await setup();
      const [a, b] = [await h.open(), await h.open()];
      const c = collector();
      const other = collector();
      await b.subscribe('closing', c.handler);
      await a.subscribe('closing', other.handler);
      await b.close();
      await a.publish([{ topic: 'closing', payload: 'after close' }]);
      await eventually(() => other.got.length === 1);
      await sleep(50);
      expect(c.got).toEqual([]);
    });
  });
}
