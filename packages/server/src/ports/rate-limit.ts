/**
 * Rate limits shared by every process of a fleet (sign-ups and logins per address, logins per
 * username), so N API nodes allow what one allows, not N times that.
 *
 * Contract (pinned by ./contract/rate-limit.contract.ts, run against every implementation):
 * - Each call is atomic: concurrent calls on one key, from any process, never admit more than
 *   the rule allows.
 * - Time comes from the implementation's clock (injected, so tests need no sleeps); keys are
 *   forgotten on their own once they no longer limit anything.
 * - A refusal says how long to wait: after `retryAfterMs` the same call is admitted (if nothing
 *   else was admitted on the key meanwhile).
 * - Failures are thrown as StoreError('unavailable').
 */
export interface RateLimiter {
  /**
   * A token bucket: `limit` hits per `windowMs`, refilled continuously (so a burst of `limit`,
   * then one every windowMs/limit). Admitting takes a token; a refusal takes nothing.
   */
  take(key: string, rule: RateRule): Promise<RateDecision>;
  /**
   * A growing delay: admits a try unless the key is waiting. Every admitted try counts; the
   * `free`-th makes the next one wait `baseMs`, and each one after that doubles the wait, up to
   * `maxMs` (so the wait never exceeds `maxMs`: nobody is locked out for good). A refusal does
   * not count and does not lengthen the wait. The count is forgotten once `forgetMs` pass after
   * the wait without a try, or by `reset`.
   */
  attempt(key: string, policy: BackoffPolicy): Promise<RateDecision>;
  /** Forgets the key (e.g. a login that succeeded clears its username's delay). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface RateRule {
  limit: number;
  windowMs: number;
}

export interface BackoffPolicy {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** The wait after the `tries`-th admitted try under `policy` (0 before the free tries are used up). */
export function backoffDelay(tries: number, policy: BackoffPolicy): number {
  if (tries < policy.free) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(tries - policy.free, 40));
}
