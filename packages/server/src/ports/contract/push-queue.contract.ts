import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushJob, PushQueue } from '../push.js';

export interface PushQueueHarness {
  /** Opens another handle on the same queue (another node). */
  open(): Promise<PushQueue>;
  cleanup(): Promise<void>;
}

const job = (n: number): PushJob => ({
  userId: `u${n}`,
  channelId: 'c',
  messageId: String(n),
  senderId: 's',
  preview: `m${n}`,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The PushQueue contract, run against every backend. */
export function describePushQueueContract(
  name: string,
  makeHarness: () => Promise<PushQueueHarness>,
  skip: string | false = false,
): void {
  describe.skipIf(skip !== false)(`PushQueue contract: ${name}`, () => {
    let harness: PushQueueHarness;
    beforeEach(async () => {
      harness = await makeHarness();
    });
    afterEach(() => harness.cleanup());

    it('hands jobs queued before and after consume to the consumer, in order', async () => {
      const queue = await harness.open();
      await queue.enqueue([job(1), job(2)]);
      const seen: string[] = [];
      queue.consume(async (j) => void seen.push(j.messageId));
      await queue.enqueue([job(3)]);
      await until(() => seen.length === 3, 'three jobs');
      expect(seen).toEqual(['1', '2', '3']);
    });

    it('gives each job to exactly one of several consumers', async () => {
      const producer = await harness.open();
      const seen: string[] = [];
      for (const consumer of [await harness.open(), await harness.open()]) {
        consumer.consume(async (j) => void seen.push(j.messageId));
      }
      await producer.enqueue(Array.from({ length: 20 }, (_, i) => job(i)));
      await until(() => seen.length >= 20, 'twenty jobs');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => String(i)).sort());
    });

    it('keeps going after a handler throws', async () => {
      const queue = await harness.open();
      const seen: string[] = [];
      queue.consume(async (j) => {
        if (j.messageId === '1') throw new Error('boom');
        seen.push(j.messageId);
      });
      await queue.enqueue([job(1), job(2)]);
      await until(() => seen.length === 1, 'the job after the failing one');
      expect(seen).toEqual(['2']);
    });

    it('on close, finishes the job in hand and takes no other', async () => {
      const queue = await harness.open();
      const seen: string[] = [];
      let release: () => void = () => undefined;
      let finished = false;
      queue.consume(async (j) => {
        seen.push(j.messageId);
        if (j.messageId !== '1') return;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      });
      await queue.enqueue([job(1), job(2)]);
      await until(() => seen.length === 1, 'job 1 in hand');
      const closed = queue.close();
      release();
      await closed;
      expect(finished).toBe(true);
      expect(seen).toEqual(['1']);
    });
  });
}
