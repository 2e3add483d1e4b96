/**
 * Runtime schemas for everything a client sends: HTTP bodies, query strings and WebSocket
 * frames. The server validates every input against these; clients may use them to check
 * input before sending. Kept apart from the types so a browser bundle need not carry zod.
 */
import { z } from 'zod';
import { countCodePoints, idPattern, limits } from './limits.js';

export const id = z.string().regex(idPattern, 'must be a decimal id string');
/** Accepts a number or a numeric string (query strings are strings). */
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const username = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "." and "-"')
  .transform((value) => value.toLowerCase());
export const password = z.string().min(limits.minPasswordLength).max(limits.maxPasswordLength);
/** Characters that change how text around them is drawn or ordered: C0/C1 controls and bidi controls. */
const CONTROL_OR_BIDI = /[\p{Cc}\p{Bidi_Control}]/u;
/** A character that draws something: not white space, not invisible by default, not a lone mark. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{M}\u2800]/u;

/**
 * A name other people see (display name, group name, status, device name): well-formed UTF-16
 * (a lone surrogate would be stored as U+FFFD), no control or bidirectional-control characters
 * (a right-to-left override makes "gnp.exe" read "exe.png"), and at least one visible character
 * (a name of zero-width spaces or a Hangul filler looks like nobody). Trimmed; `max` in UTF-16 units.
 */
export function visibleName(max: number, { allowEmpty = false } = {}) {
  return (
    z
      .string()
      .trim()
      .refine((value) => value.isWellFormed(), 'must not contain unpaired surrogates')
      // Counted in code points, as every text length of the contract (an emoji is one character).
      .refine((value) => [...value].length <= max, `must be at most ${max} characters`)
      .refine((value) => !CONTROL_OR_BIDI.test(value), 'must not contain control or bidirectional-control characters')
      .refine(
        (value) => (allowEmpty && value === '') || VISIBLE.test(value),
        allowEmpty ? 'must be empty or contain a visible character' : 'must contain a visible character',
      )
  );
}

const displayName = visibleName(limits.maxDisplayNameLength);
const deviceName = visibleName(64);
const groupName = visibleName(limits.maxGroupNameLength);
export const clientMsgId = z.string().min(1).max(limits.maxClientMsgIdLength);
/** Length is checked separately (in code points) so that it gets its own error code. */
export const messageText = z.string().min(1, 'text must not be empty');

export const signupBody = z.object({
  username,
  password,
  displayName: displayName.optional(),
  deviceName: deviceName.optional(),
  /** Needed when the server's sign-up mode is `invite`. */
  inviteCode: z.string().min(1).max(128).optional(),
});
export const loginBody = z.object({
  username,
  password: z.string().min(1).max(limits.maxPasswordLength),
  deviceName: deviceName.optional(),
});
export const profilePatch = z
  .object({
    displayName: displayName.optional(),
    statusText: visibleName(limits.maxStatusTextLength, { allowEmpty: true }).optional(),
  })
  .strict();
export const userSearchQuery = z.object({
  query: z.string().max(32).default(''),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export const userIdBody = z.object({ userId: id });
export const groupBody = z.object({
  name: groupName,
  memberIds: z.array(id).max(1000).default([]),
});
export const groupPatch = z.object({ name: groupName }).strict();
export const memberRolePatch = z.object({ role: z.enum(['admin', 'member']) });
export const historyQuery = z
  .object({
    before: id.optional(),
    after: id.optional(),
    around: id.optional(),
    limit: z.coerce.number().int().min(1).max(limits.maxHistoryLimit).default(limits.defaultHistoryLimit),
  })
  .refine(
    (q) => [q.before, q.after, q.around].filter((v) => v !== undefined).length <= 1,
    'use at most one of before, after and around',
  );
export const channelsQuery = z.object({
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(limits.maxChannelsLimit).default(limits.maxChannelsLimit),
});
// Search: the query's length is checked in code points here; whether it has any word to match
// is the server's tokenizer's call (empty or only punctuation: invalid_request).
export const searchQuery = z.object({
  q: z
    .string()
    .refine((q) => q.trim().length > 0, 'q must not be empty')
    .refine(
      (q) => countCodePoints(q) <= limits.maxSearchQueryLength,
      `q is longer than ${limits.maxSearchQueryLength} characters`,
    ),
  channelId: id.optional(),
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(limits.maxSearchLimit).default(limits.defaultSearchLimit),
});
export const mentionsQuery = z.object({
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(limits.maxSearchLimit).default(limits.defaultSearchLimit),
});
export const sendBody = z.object({ text: messageText, clientMsgId, replyToId: id.optional() });
export const editBody = z.object({ text: messageText });
export const readBody = z.object({ messageId: id });
export const syncQuery = z.object({
  since: seq.default(0),
  limit: z.coerce.number().int().min(1).max(limits.maxSyncLimit).default(limits.defaultSyncLimit),
});

const webPushSubscription = z.object({
  provider: z.literal('webpush').optional(),
  endpoint: z
    .string()
    .url()
    .max(2048)
    .refine((u) => u.startsWith('https://'), 'endpoint must be an https URL'),
  keys: z.object({ p256dh: z.string().min(1).max(256), auth: z.string().min(1).max(64) }),
});
/** An APNs device token is hex; an FCM registration token is URL-safe base64 with ':' and '-'. */
const phoneRegistration = z.object({
  provider: z.enum(['apns', 'fcm']),
  token: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^[A-Za-z0-9_:.-]+$/, 'token has characters no push token has'),
});
/** POST /v1/push/subscriptions: a browser's Web Push subscription, or a phone's APNs/FCM token. */
export const pushSubscriptionBody = z.union([webPushSubscription, phoneRegistration]);
/** DELETE /v1/push/subscriptions: `{endpoint}` (Web Push) or `{provider, token}`. */
export const pushEndpointBody = z.union([z.object({ endpoint: z.string().min(1).max(2048) }), phoneRegistration]);
/** PATCH /v1/channels/:id/settings. */
export const channelSettingsBody = z.object({ muted: z.boolean() });
/** PATCH /v1/push/settings. */
export const pushSettingsBody = z.object({ previews: z.boolean() });

// ---- accounts: own account, invites, administration
export const passwordChangeBody = z.object({
  currentPassword: z.string().min(1).max(limits.maxPasswordLength),
  newPassword: password,
  /** Keep your other devices signed in (they are signed out by default). */
  keepOtherDevices: z.boolean().default(false),
});
export const accountDeleteBody = z.object({ password: z.string().min(1).max(limits.maxPasswordLength) });
export const inviteBody = z.object({
  /** 1 hour to 90 days; 7 days by default. */
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(90 * 24)
    .default(7 * 24),
  maxUses: z.number().int().min(1).max(1000).default(1),
});
export const adminUsersQuery = z.object({
  query: z.string().max(32).default(''),
  after: z.string().max(32).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const adminCreateUserBody = z.object({
  username,
  password,
  displayName: displayName.optional(),
  role: z.enum(['admin', 'member']).default('member'),
});
export const adminUserPatch = z
  .object({ role: z.enum(['admin', 'member']).optional(), deactivated: z.boolean().optional() })
  .strict();
export const adminPasswordBody = z.object({ newPassword: password });
export const adminStatsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(30) });

export const helloFrame = z.object({
  op: z.literal('hello'),
  token: z.string().min(1).max(256),
  since: seq.optional(),
});
export const sendFrame = z.object({
  op: z.literal('send'),
  channelId: id,
  text: messageText,
  clientMsgId,
  replyToId: id.optional(),
});
export const pingFrame = z.object({ op: z.literal('ping') });
export const readFrame = z.object({ op: z.literal('read'), channelId: id, messageId: id });
export const typingFrame = z.object({ op: z.literal('typing'), channelId: id });
/** Frames accepted after hello. */
export const sessionFrame = z.discriminatedUnion('op', [sendFrame, pingFrame, readFrame, typingFrame]);

type SafeParse<T extends z.ZodTypeAny> = z.SafeParseReturnType<unknown, z.output<T>>;

/**
 * helloFrame.safeParse, but a hello of the usual shape (a token of 1 to 256 characters, `since`
 * a non-negative safe integer or absent) is checked by hand first. The check accepts only what
 * the schema accepts and gives the same data; anything else goes to the schema, whose answer and
 * messages stay the rule. Why: every returning device sends one, and zod's parse of it
 * allocated about 800 bytes, 3.5% of all the server allocated per hello in a reconnect storm.
 */
export function parseHelloFrame(value: unknown): SafeParse<typeof helloFrame> {
  if (isRecord(value)) {
    const { op, token, since } = value;
    if (op === 'hello' && typeof token === 'string' && token.length >= 1 && token.length <= 256) {
      if (since === undefined) return { success: true, data: { op, token } };
      if (typeof since === 'number' && Number.isSafeInteger(since) && since >= 0) {
        return { success: true, data: { op, token, since } };
      }
    }
  }
  return helloFrame.safeParse(value);
}

/** sessionFrame.safeParse, with a ping (every device's heartbeat) checked by hand first, as above. */
export function parseSessionFrame(value: unknown): SafeParse<typeof sessionFrame> {
  if (isRecord(value) && value.op === 'ping') return { success: true, data: { op: 'ping' } };
  return sessionFrame.safeParse(value);
}

/** A plain object, as JSON.parse makes (z.object accepts these, and other objects too). */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Turns a zod error into one readable line: "text: must not be empty; clientMsgId: Required". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export { z };
