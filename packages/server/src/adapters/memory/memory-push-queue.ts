import type { PushJob, PushQueue } from '../../ports/push.js';

/** In-process PushQueue: jobs wait in an array until the (single) consumer takes them. */
export class MemoryPushQueue implements PushQueue {
  readonly #jobs: PushJob[] = [];
  #handler: ((job: PushJob) => Promise<void>) | undefined;
  #draining = false;
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

  async #drain(): Promise<void> {
    if (this.#draining || this.#handler === undefined) return;
    this.#draining = true;
    try {
      for (let job = this.#jobs.shift(); job !== undefined && !this.#closed; job = this.#jobs.shift()) {
        await this.#handler(job).catch(() => undefined);
      }
    } finally {
      this.#draining = false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#jobs.length = 0;
  }
}
