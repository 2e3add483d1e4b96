/** Jittered exponential backoff for reconnects and retries. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Default 250 ms. */
  initialMs?: number;
  /**
   * Upper bound of the delay, before jitter. Default 5 s: a client must be back within a few
   * seconds of the server returning (a restart, a deploy), and jitter still spreads a crowd.
   */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * Share of the delay that is random, 0..1. The delay is drawn uniformly from
   * [base * (1 - jitter), base], so many clients dropped at once do not return at once. Default 0.5.
   */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 250;
    this.#maxMs = options.maxMs ?? 5_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs >= 0) || !(this.#maxMs >= this.#initialMs) || !(this.#factor >= 1)) {
      throw new RangeError('backoff needs 0 <= initialMs <= maxMs and factor >= 1');
    }
  }

  /** Retries so far since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * The delay before the next try; each call counts as one more attempt. `atLeastMs` raises the
   * base (before jitter, never above maxMs): "try again later" even right after a success.
   */
  next(atLeastMs = 0): number {
    const base = Math.min(this.#maxMs, Math.max(atLeastMs, this.#initialMs * this.#factor ** this.#attempt));
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter) + base * this.#jitter * this.#random());
  }

  /** Back to the first delay (call after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
