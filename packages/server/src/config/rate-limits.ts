/**
 * The abuse limits' settings (sign-up and login rate limits, whose address a request comes
 * from, and how long an unused token lives), read once with the rest of the configuration (config.ts).
 */
import { z } from 'zod';
import type { BackoffPolicy, RateRule } from '../ports/rate-limit.js';
import { ConfigError } from './config.js';

const positiveInt = z.coerce.number().int().positive();

const rateLimitEnv = z.object({
  /** Sign-ups (and invite redemptions) per client address per window. */
  PARLEY_SIGNUP_LIMIT: positiveInt.default(10),
  PARLEY_SIGNUP_WINDOW_MS: positiveInt.default(60 * 60 * 1000),
  /** Login attempts (right or wrong) per client address per window. */
  PARLEY_LOGIN_LIMIT: positiveInt.default(60),
  PARLEY_LOGIN_WINDOW_MS: positiveInt.default(10 * 60 * 1000),
  /** Login attempts per username before each next one waits, doubling from 1 s up to the cap. */
  PARLEY_LOGIN_FREE_TRIES: positiveInt.default(10),
  PARLEY_LOGIN_MAX_DELAY_MS: positiveInt.default(15 * 60 * 1000),
  /**
   * Which proxies to believe about the client's address (X-Forwarded-For): "false" (default:
   * nobody, the TCP peer is the client), "true" (any), a hop count, or comma-separated
   * addresses/CIDRs of your load balancers.
   */
  PARLEY_TRUST_PROXY: z.string().default('false'),
  /** A token unused for this many days expires (each use renews it); 0 = never. */
  PARLEY_TOKEN_LIFETIME_DAYS: z.coerce.number().min(0).default(90),
});

export interface RateLimitConfig {
  signupPerAddress: RateRule;
  loginPerAddress: RateRule;
  loginPerUsername: BackoffPolicy;
  /** Fastify's trustProxy. */
  trustProxy: boolean | number | string[];
}

export function loadRateLimits(env: Record<string, string | undefined>): RateLimitConfig {
  const e = parse(env);
  return {
    signupPerAddress: { limit: e.PARLEY_SIGNUP_LIMIT, windowMs: e.PARLEY_SIGNUP_WINDOW_MS },
    loginPerAddress: { limit: e.PARLEY_LOGIN_LIMIT, windowMs: e.PARLEY_LOGIN_WINDOW_MS },
    loginPerUsername: {
      free: e.PARLEY_LOGIN_FREE_TRIES,
      baseMs: 1_000,
      maxMs: e.PARLEY_LOGIN_MAX_DELAY_MS,
      // A day of quiet after the wait forgets the tries (a success forgets them at once).
      forgetMs: 24 * 60 * 60 * 1000,
    },
    trustProxy: parseTrustProxy(e.PARLEY_TRUST_PROXY),
  };
}

/** How long a token may go unused before it expires, in ms; 0 = never. */
export function loadTokenLifetimeMs(env: Record<string, string | undefined>): number {
  return Math.round(parse(env).PARLEY_TOKEN_LIFETIME_DAYS * 24 * 60 * 60 * 1000);
}

function parse(env: Record<string, string | undefined>) {
  const parsed = rateLimitEnv.safeParse(
    Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('PARLEY_'))),
  );
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${details}`);
  }
  return parsed.data;
}

function parseTrustProxy(value: string): boolean | number | string[] {
  const trimmed = value.trim();
  if (trimmed === 'false' || trimmed === '') return false;
  if (trimmed === 'true') return true;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}
