import type { PushJob, PushQueue } from '../../ports/push.js';

/** In-process PushQueue: jobs wait in an array until the (single) consumer takes them. */
export class MemoryPushQueue implements PushQueue {
  readonly #jobs: PushJob[] = [];
  #handler: ((job: PushJob) => Promise<void>) | undefined;
  #draining = false;
  /** The current (or last) run through the jobs; `close` waits for it. */
  #drained: Promise<void> = Promise.resolve();
  #closed = false;

  async enqueue(jobs: readonly PushJob[]): Promise<void> {
    if (this.#closed) return;
    this.#jobs.push(...jobs);
    void this.#drain();
  }

  consume(handler: (job: PushJob) => Promise<void>): void {
    this.#handler = handler;
    void this.#drain();
  }

  #drain(): void {
    const handler = this.#handler;
    if (this.#draining || handler === undefined) return;
    this.#draining = true;
    this.#drained = (async () => {
      try {
        for (let job = this.#jobs.shift(); job !== undefined && !this.#closed; job = this.#jobs.shift()) {
          await handler(job).catch(() => undefined);
        }
      } finally {
        this.#draining = false;
      }
    })();
  }

  /** Finishes the job in hand; the waiting ones end with the process (see the PushQueue contract). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#jobs.length = 0;
    await this.#drained;
  }
}
