/**
 * Who may try to sign up or log in how often, across the whole fleet (the RateLimiter port).
 *
 * - Sign-ups and invite redemptions per client address: each costs a 32 MiB password hash, and
 *   one address must not mint accounts in bulk.
 * - Login attempts per client address: one address must not guess across many usernames.
 * - Login attempts per username: a growing delay (never a block) after the free tries, so
 *   guessing one password gets slow for everyone, and the rightful owner waits at most the
 *   cap; a successful login forgets the tries.
 * Every refusal is `rate_limited` with `retryAfterMs`; with the limiter unreachable (Redis down)
 * the call fails with `unavailable` rather than let attempts through unlimited.
 */
import type { BackoffPolicy, RateDecision, RateLimiter, RateRule } from '../ports/rate-limit.js';
import { ChatError, storeCall } from './errors.js';

export interface AccessLimitsOptions {
  signupPerAddress: RateRule;
  loginPerAddress: RateRule;
  loginPerUsername: BackoffPolicy;
}

export class AccessLimits {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly options: AccessLimitsOptions,
  ) {}

  /** Before a sign-up from `address`; throws rate_limited. */
  async signup(address: string): Promise<void> {
    refuse(await storeCall(this.limiter.take(`signup:${address}`, this.options.signupPerAddress)), 'too many sign-ups');
  }

  /** Before redeeming an invite from `address` (the sign-up budget: an invite is a sign-up). */
  async redeemInvite(address: string): Promise<void> {
    refuse(await storeCall(this.limiter.take(`signup:${address}`, this.options.signupPerAddress)), 'too many sign-ups');
  }

  /**
   * Before checking a password for `username` from `address`; throws rate_limited. A try counts
   * before its password is checked (so a thousand guesses sent at once are still limited), and a
   * success forgets them all: only a run of tries without a success, or more than the free tries
   * in flight at one moment, makes the next one wait.
   */
  async login(address: string, username: string): Promise<void> {
    refuse(await storeCall(this.limiter.take(`login:${address}`, this.options.loginPerAddress)), 'too many logins');
    refuse(
      await storeCall(this.limiter.attempt(`login-user:${username}`, this.options.loginPerUsername)),
      'too many login attempts for this username',
    );
  }

  /** The password was right: the username's tries are forgotten. */
  async loginSucceeded(username: string): Promise<void> {
    await storeCall(this.limiter.reset(`login-user:${username}`));
  }
}

function refuse(decision: RateDecision, what: string): void {
  if (decision.allowed) return;
  const seconds = Math.ceil(decision.retryAfterMs / 1000);
  throw new ChatError('rate_limited', `${what}, try again in ${seconds} s`, { retryAfterMs: decision.retryAfterMs });
}
