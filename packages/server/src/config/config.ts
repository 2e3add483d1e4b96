/**
 * Configuration is read once, here, from the environment; validated; defaulted; frozen; and
 * passed down by constructors. Nothing else reads process.env.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SignupMode } from '@parley/protocol';
import { z } from 'zod';
import { loadRateLimits, loadTokenLifetimeMs, type RateLimitConfig } from './rate-limits.js';

const roles = ['all', 'api', 'gateway', 'notifier'] as const;
export type Role = (typeof roles)[number];

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  PARLEY_ROLE: z.enum(roles).default('all'),
  PARLEY_HOST: z.string().min(1).default('127.0.0.1'),
  PARLEY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
  PARLEY_DATABASE_URL: z.string().url().optional(),
  /** redis://, rediss://, or redis+sentinel://host1:26379,host2:26379/master (several hosts). */
  PARLEY_REDIS_URL: z
    .string()
    .regex(/^(rediss?|redis\+sentinels?):\/\/\S+$/, 'must be a redis://, rediss:// or redis+sentinel:// URL')
    .optional(),
  PARLEY_DATABASE_POOL_SIZE: positiveInt.default(10),
  PARLEY_REDIS_PREFIX: z.string().default('parley:'),
  PARLEY_ADVERTISE_URL: z.string().url().optional(),
  PARLEY_NODE_ID: z.coerce.number().int().min(0).max(1023).optional(),
  PARLEY_HEARTBEAT_MS: positiveInt.default(5_000),
  PARLEY_HEARTBEAT_TIMEOUT_MS: positiveInt.default(30_000),
  PARLEY_PRESENCE_GRACE_MS: z.coerce.number().int().min(0).default(3_000),
  PARLEY_PRESENCE_FANOUT_MAX_GROUP: z.coerce.number().int().min(0).default(100),
  PARLEY_HELLO_TIMEOUT_MS: positiveInt.default(10_000),
  PARLEY_SEND_RATE: positiveInt.default(100),
  PARLEY_SEND_BURST: positiveInt.default(1000),
  PARLEY_TYPING_THROTTLE_MS: z.coerce.number().int().min(0).default(2_000),
  PARLEY_MAX_BUFFERED_BYTES: positiveInt.default(16 * 1024 * 1024),
  PARLEY_GATEWAY_CAPACITY: positiveInt.default(18_000),
  PARLEY_MAX_SOCKETS_PER_USER: positiveInt.default(20),
  PARLEY_MAX_SOCKETS_PER_ADDRESS: positiveInt.default(1_000),
  PARLEY_MAX_EARLY_BYTES: positiveInt.default(1024 * 1024),
  PARLEY_MAX_PROCESS_BUFFERED_BYTES: positiveInt.default(512 * 1024 * 1024),
  PARLEY_SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  PARLEY_LOG_RETENTION_DAYS: z.coerce.number().min(0).default(0),
  PARLEY_COMMIT_BATCH_MAX: positiveInt.default(512),
  PARLEY_COMMIT_INTERVAL_MS: z.coerce.number().min(0).max(100).default(5),
  PARLEY_COMMITS_IN_FLIGHT: z.coerce.number().int().min(1).max(8).default(2),
  /** log2 of scrypt's N; lower only in tests (each step halves the cost). */
  PARLEY_PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(15),
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PARLEY_WEB_DIR: z.string().optional(),
  PARLEY_VAPID_PUBLIC_KEY: z.string().optional(),
  PARLEY_VAPID_PRIVATE_KEY: z.string().optional(),
  PARLEY_VAPID_SUBJECT: z.string().default('mailto:admin@localhost'),
  /** Seconds after sending during which the sender may edit a message; 0 = always. */
  PARLEY_EDIT_WINDOW: z.coerce.number().int().min(0).default(0),
  /** Distinct emoji one message can carry. */
  PARLEY_MAX_REACTION_EMOJI: positiveInt.max(1000).default(20),
  /** Who may sign up: open, invite (a code is needed) or closed (admins create accounts). Default: see signupMode. */
  PARLEY_SIGNUP: z.enum(['open', 'invite', 'closed']).optional(),
  /** Members (not only admins) may create invites. */
  PARLEY_MEMBER_INVITES: z.enum(['true', 'false']).default('false'),
  /** A deleted account's messages: kept (shown as "Deleted user") or erased. */
  PARLEY_DELETED_ACCOUNT_MESSAGES: z.enum(['keep', 'erase']).default('keep'),
  // Push notifications: coalescing, retries, APNs, FCM.
  PARLEY_PUSH_COALESCE_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
  PARLEY_PUSH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  PARLEY_PUSH_TIMEOUT_MS: positiveInt.default(10_000),
  PARLEY_PUSH_CONCURRENCY: positiveInt.default(32),
  PARLEY_PUSH_POLL_MS: positiveInt.default(500),
  PARLEY_PUSH_LEASE_MS: positiveInt.default(60_000),
  PARLEY_PUSH_CA_FILE: z.string().min(1).optional(),
  PARLEY_APNS_KEY: z.string().min(1).optional(),
  PARLEY_APNS_KEY_FILE: z.string().min(1).optional(),
  PARLEY_APNS_KEY_ID: z.string().min(1).optional(),
  PARLEY_APNS_TEAM_ID: z.string().min(1).optional(),
  PARLEY_APNS_TOPIC: z.string().min(1).optional(),
  PARLEY_APNS_URL: z.string().url().default('https://api.push.apple.com'),
  PARLEY_FCM_SERVICE_ACCOUNT: z.string().min(1).optional(),
  PARLEY_FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  PARLEY_FCM_URL: z.string().url().default('https://fcm.googleapis.com'),
});

export type Env = z.input<typeof envSchema>;

export interface ServerConfig {
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  storage: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; poolSize: number };
  bus: { kind: 'memory' } | { kind: 'redis'; url: string; prefix: string };
  /** Fixed Snowflake node id; unset means "lease one" (scale-out) or 0 (embedded). */
  nodeId?: number;
  /** The WebSocket URL that discovery hands out for this node. */
  advertiseUrl?: string;
  gateway: {
    heartbeatMs: number;
    heartbeatTimeoutMs: number;
    helloTimeoutMs: number;
    /** Bytes queued for one socket beyond which it is closed as a slow consumer. */
    maxBufferedBytes: number;
    /** Bytes queued for all sockets of the process beyond which the slow ones are closed. */
    maxProcessBufferedBytes: number;
    /** Sockets one account may hold on one gateway (more are refused with 4101). */
    maxSocketsPerUser: number;
    /** Sockets (before and after hello) from one client address on one gateway (more get 429). */
    maxSocketsPerAddress: number;
    /** Bytes a socket may send between hello and ready (more: closed with 4102). */
    maxEarlyBytes: number;
    capacity: number;
    /** Largest frame accepted: 100,000 code points of text in the worst JSON escaping. */
    maxPayloadBytes: number;
  };
  presence: { graceMs: number; fanoutMaxGroupSize: number };
  limits: {
    sendRatePerSecond: number;
    sendBurst: number;
    typingThrottleMs: number;
    commitBatchMax: number;
    commitIntervalMs: number;
    commitsInFlight: number;
  };
  /** Update-log entries older than this are trimmed; 0 keeps them forever. */
  logRetentionDays: number;
  /** A graceful stop (SIGTERM) takes at most this long; the process exits at this point regardless. */
  shutdownTimeoutMs: number;
  /** log2 of scrypt's N for new password hashes. */
  passwordHashCost: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Built web app to serve at `/`, if present. */
  webDir?: string;
  push: PushConfig;
  /** Sign-up and login rate limits, shared by the fleet (rate-limits.ts). */
  rateLimits: RateLimitConfig;
  /** A token unused for this long expires; each use renews it. 0 = never. */
  tokenLifetimeMs: number;
  /** Edits, deletes and reactions (domain/message-changes.ts). */
  messageChanges: { editWindowMs: number; maxReactionEmoji: number };
  accounts: {
    signup: SignupMode;
    /** Why that mode (printed on start). */
    signupReason: string;
    memberInvites: boolean;
    deletedAccountMessages: 'keep' | 'erase';
  };
}

/**
 * PARLEY_SIGNUP if set; otherwise `open` for a server that listens on loopback only (nobody else
 * can reach it: a trial or a developer's machine) and `invite` for one that others can reach.
 */
export function signupMode(setting: SignupMode | undefined, host: string): { mode: SignupMode; reason: string } {
  if (setting !== undefined) return { mode: setting, reason: 'set by PARLEY_SIGNUP' };
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return loopback
    ? { mode: 'open', reason: `the default while listening on loopback only (${host}); set PARLEY_SIGNUP to change it` }
    : {
        mode: 'invite',
        reason: `the default for a server others can reach (${host}); set PARLEY_SIGNUP=open to let anyone sign up`,
      };
}

export interface PushConfig {
  vapidPublicKey?: string;
  vapidPrivateKey?: string;
  vapidSubject: string;
  coalesceMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** Sends in flight per provider. */
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  /** Extra trusted CA (PEM) for the push services' TLS (a proxy, a test server). */
  ca?: string;
  apns?: { privateKey: string; keyId: string; teamId: string; topic: string; baseUrl: string };
  fcm?: {
    serviceAccount: { project_id: string; client_email: string; private_key: string; token_uri: string };
    baseUrl: string;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined>, defaultWebDir?: string): ServerConfig {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('PARLEY_'))));
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${details}`);
  }
  const e = parsed.data;
  if (e.PARLEY_HEARTBEAT_TIMEOUT_MS <= e.PARLEY_HEARTBEAT_MS) {
    throw new ConfigError('PARLEY_HEARTBEAT_TIMEOUT_MS must be larger than PARLEY_HEARTBEAT_MS');
  }
  const dataDir = path.resolve(e.PARLEY_DATA_DIR);
  const signup = signupMode(e.PARLEY_SIGNUP, e.PARLEY_HOST);
  const config: ServerConfig = {
    role: e.PARLEY_ROLE,
    host: e.PARLEY_HOST,
    port: e.PARLEY_PORT,
    dataDir,
    storage: e.PARLEY_DATABASE_URL
      ? { kind: 'postgres', url: e.PARLEY_DATABASE_URL, poolSize: e.PARLEY_DATABASE_POOL_SIZE }
      : {
          kind: 'sqlite',
          path: path.join(dataDir, 'parley.db'),
        },
    bus: e.PARLEY_REDIS_URL
      ? { kind: 'redis', url: e.PARLEY_REDIS_URL, prefix: e.PARLEY_REDIS_PREFIX }
      : { kind: 'memory' },
    gateway: {
      heartbeatMs: e.PARLEY_HEARTBEAT_MS,
      heartbeatTimeoutMs: e.PARLEY_HEARTBEAT_TIMEOUT_MS,
      helloTimeoutMs: e.PARLEY_HELLO_TIMEOUT_MS,
      maxBufferedBytes: e.PARLEY_MAX_BUFFERED_BYTES,
      maxProcessBufferedBytes: e.PARLEY_MAX_PROCESS_BUFFERED_BYTES,
      maxSocketsPerUser: e.PARLEY_MAX_SOCKETS_PER_USER,
      maxSocketsPerAddress: e.PARLEY_MAX_SOCKETS_PER_ADDRESS,
      maxEarlyBytes: e.PARLEY_MAX_EARLY_BYTES,
      capacity: e.PARLEY_GATEWAY_CAPACITY,
      maxPayloadBytes: 1024 * 1024,
    },
    presence: { graceMs: e.PARLEY_PRESENCE_GRACE_MS, fanoutMaxGroupSize: e.PARLEY_PRESENCE_FANOUT_MAX_GROUP },
    limits: {
      sendRatePerSecond: e.PARLEY_SEND_RATE,
      sendBurst: e.PARLEY_SEND_BURST,
      typingThrottleMs: e.PARLEY_TYPING_THROTTLE_MS,
      commitBatchMax: e.PARLEY_COMMIT_BATCH_MAX,
      commitIntervalMs: e.PARLEY_COMMIT_INTERVAL_MS,
      commitsInFlight: e.PARLEY_COMMITS_IN_FLIGHT,
    },
    logRetentionDays: e.PARLEY_LOG_RETENTION_DAYS,
    shutdownTimeoutMs: e.PARLEY_SHUTDOWN_TIMEOUT_MS,
    passwordHashCost: e.PARLEY_PASSWORD_HASH_COST,
    logLevel: e.PARLEY_LOG_LEVEL,
    push: loadPushConfig(e),
    rateLimits: loadRateLimits(env),
    tokenLifetimeMs: loadTokenLifetimeMs(env),
    messageChanges: { editWindowMs: e.PARLEY_EDIT_WINDOW * 1000, maxReactionEmoji: e.PARLEY_MAX_REACTION_EMOJI },
    accounts: {
      signup: signup.mode,
      signupReason: signup.reason,
      memberInvites: e.PARLEY_MEMBER_INVITES === 'true',
      deletedAccountMessages: e.PARLEY_DELETED_ACCOUNT_MESSAGES,
    },
  };
  if (e.PARLEY_NODE_ID !== undefined) config.nodeId = e.PARLEY_NODE_ID;
  if (e.PARLEY_ADVERTISE_URL !== undefined) config.advertiseUrl = e.PARLEY_ADVERTISE_URL;
  const webDir = e.PARLEY_WEB_DIR ?? defaultWebDir;
  if (webDir !== undefined) config.webDir = path.resolve(webDir);
  return deepFreeze(config);
}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} (${file}): ${(error as Error).message}`);
  }
}

function loadPushConfig(e: z.infer<typeof envSchema>): PushConfig {
  const push: PushConfig = {
    vapidSubject: e.PARLEY_VAPID_SUBJECT,
    coalesceMs: e.PARLEY_PUSH_COALESCE_MS,
    maxAttempts: e.PARLEY_PUSH_MAX_ATTEMPTS,
    timeoutMs: e.PARLEY_PUSH_TIMEOUT_MS,
    concurrency: e.PARLEY_PUSH_CONCURRENCY,
    pollMs: e.PARLEY_PUSH_POLL_MS,
    leaseMs: e.PARLEY_PUSH_LEASE_MS,
  };
  if (e.PARLEY_VAPID_PUBLIC_KEY) push.vapidPublicKey = e.PARLEY_VAPID_PUBLIC_KEY;
  if (e.PARLEY_VAPID_PRIVATE_KEY) push.vapidPrivateKey = e.PARLEY_VAPID_PRIVATE_KEY;
  if (e.PARLEY_PUSH_CA_FILE) push.ca = readSecret(e.PARLEY_PUSH_CA_FILE, 'PARLEY_PUSH_CA_FILE');
  const apnsKey = e.PARLEY_APNS_KEY ?? (e.PARLEY_APNS_KEY_FILE && readSecret(e.PARLEY_APNS_KEY_FILE, 'the APNs key'));
  if (apnsKey) {
    if (!e.PARLEY_APNS_KEY_ID || !e.PARLEY_APNS_TEAM_ID || !e.PARLEY_APNS_TOPIC) {
      throw new ConfigError('APNs needs PARLEY_APNS_KEY_ID, PARLEY_APNS_TEAM_ID and PARLEY_APNS_TOPIC with its key');
    }
    push.apns = {
      privateKey: apnsKey,
      keyId: e.PARLEY_APNS_KEY_ID,
      teamId: e.PARLEY_APNS_TEAM_ID,
      topic: e.PARLEY_APNS_TOPIC,
      baseUrl: e.PARLEY_APNS_URL,
    };
  }
  const fcmKey =
    e.PARLEY_FCM_SERVICE_ACCOUNT ??
    (e.PARLEY_FCM_SERVICE_ACCOUNT_FILE && readSecret(e.PARLEY_FCM_SERVICE_ACCOUNT_FILE, 'the FCM service-account key'));
  if (fcmKey) {
    const parsed = serviceAccountSchema.safeParse(safeJson(fcmKey));
    if (!parsed.success) {
      throw new ConfigError('the FCM service-account key needs project_id, client_email, private_key and token_uri');
    }
    push.fcm = { serviceAccount: parsed.data, baseUrl: e.PARLEY_FCM_URL };
  }
  return push;
}

const serviceAccountSchema = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  token_uri: z.string().url(),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
