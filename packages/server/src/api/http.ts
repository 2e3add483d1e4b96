/**
 * The HTTP API (stateless role): Fastify routes over the domain services. Every input is
 * validated with the shared schemas; every error leaves as `{error: {code, message}}`.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ChatError, type ErrorBody } from '@parley/protocol';
import {
  accountDeleteBody,
  adminCreateUserBody,
  adminPasswordBody,
  adminStatsQuery,
  adminUserPatch,
  adminUsersQuery,
  channelsQuery,
  describeIssues,
  editBody,
  groupBody,
  groupPatch,
  historyQuery,
  id,
  inviteBody,
  loginBody,
  mentionsQuery,
  memberRolePatch,
  passwordChangeBody,
  profilePatch,
  channelSettingsBody,
  pushEndpointBody,
  pushSettingsBody,
  pushSubscriptionBody,
  readBody,
  searchQuery,
  sendBody,
  signupBody,
  syncQuery,
  userIdBody,
  userSearchQuery,
  z,
} from '@parley/protocol/schemas';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { AccountService } from '../domain/accounts.js';
import type { AdminService } from '../domain/admin.js';
import type { BlockService } from '../domain/blocks.js';
import type { ExportService } from '../domain/export.js';
import type { InviteService } from '../domain/invites.js';
import type { ChannelService } from '../domain/channels.js';
import { toChatError } from '../domain/errors.js';
import type { FriendService } from '../domain/friends.js';
import type { MessageChangeService } from '../domain/message-changes.js';
import type { MessageService } from '../domain/messages.js';
import type { PresenceService } from '../domain/presence.js';
import type { ProfileService } from '../domain/profiles.js';
import type { PushRegistrations } from '../domain/push.js';
import type { PushSettingsService } from '../domain/push-settings.js';
import type { SearchService } from '../domain/search.js';
import type { PushProviderKind } from '../ports/push.js';
import type { DeviceRef } from '../ports/store.js';

export interface ApiDeps {
  accounts: AccountService;
  profiles: ProfileService;
  friends: FriendService;
  channels: ChannelService;
  messages: MessageService;
  messageChanges: MessageChangeService;
  presence: PresenceService;
  search: SearchService;
  blocks: BlockService;
  invites: InviteService;
  admin: AdminService;
  accountExport: ExportService;
  /** Mute and the preview setting (also when no push provider is configured). */
  pushSettings: PushSettingsService;
  /** Push registrations, with the providers configured (none: push is off). */
  push: { providers: readonly PushProviderKind[]; vapidPublicKey?: string; registrations: PushRegistrations };
  /** The gateway a client should connect to; undefined url means "this host". */
  pickGateway(): Promise<{ url?: string; nodeId: string } | undefined>;
  /**
   * Set when the web app is served (by @fastify/static, registered by the caller): a GET for a
   * path outside /v1/ that no file answers gets the app shell, so client-side routes load.
   * It lives in the not-found handler rather than a `/*` route so that a /v1/ request the
   * router refuses (e.g. an over-long path parameter) keeps its own error.
   */
  serveAppShell?: boolean;
}

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new ChatError('invalid_request', describeIssues(result.error));
  return result.data;
}

const idParams = z.object({ id });
const memberParams = z.object({ id, userId: id });
const messageParams = z.object({ id, messageId: id });
/** The emoji arrives URL-decoded by the router; isOneEmoji (domain) checks it. */
const reactionParams = z.object({ id, messageId: id, emoji: z.string().min(1).max(64) });
const userParams = z.object({ userId: id });
const presenceQuery = z.object({
  userIds: z
    .string()
    .transform((v) => v.split(',').filter(Boolean))
    .pipe(z.array(id).max(500)),
});

export function errorBody(error: ChatError): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  if (error.retryAfterMs !== undefined) body.error.retryAfterMs = error.retryAfterMs;
  return body;
}

/** An error as a complete HTTP/1.1 response, for sockets the framework never turned into a request. */
export function rawErrorResponse(error: ChatError): string {
  const body = JSON.stringify(errorBody(error));
  const reason = STATUS_CODES[error.status] ?? 'Error';
  return (
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Fastify options that route the errors Fastify and Node's HTTP parser produce before any route
 * runs (malformed URL, over-long path parameter, oversized or unparsable request head) through
 * the same mapping and shape as every other error.
 */
export const frameworkErrorOptions = {
  frameworkErrors(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
    const chatError = toChatError(error);
    void reply.status(chatError.status).send(errorBody(chatError));
  },
  clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const chatError =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new ChatError('payload_too_large', 'the request line or headers are too large')
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new ChatError('invalid_request', 'the request did not arrive in time')
          : new ChatError('invalid_request', 'the request is not well-formed HTTP');
    if (socket.writable) socket.write(rawErrorResponse(chatError));
    socket.destroy();
  },
};

export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const {
    accounts,
    profiles,
    friends,
    channels,
    messages,
    messageChanges,
    presence,
    search,
    blocks,
    invites,
    admin,
    accountExport,
  } = deps;

  // Clients written by hand often send JSON without a content type (fetch says text/plain) or
  // an empty body with `content-type: application/json` on bodiless POSTs: accept both.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new ChatError('invalid_request', 'the body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const chatError = toChatError(error);
    if (chatError.code === 'internal') request.log.error({ err: error }, 'request failed');
    else if (chatError.code === 'unavailable') request.log.warn({ err: error }, 'request failed: unavailable');
    if (chatError.retryAfterMs !== undefined)
      void reply.header('retry-after', Math.ceil(chatError.retryAfterMs / 1000));
    void reply.status(chatError.status).send(errorBody(chatError));
  });
  app.setNotFoundHandler((request, reply) => {
    if (deps.serveAppShell && request.method === 'GET' && !request.url.startsWith('/v1/')) {
      void reply.sendFile('index.html');
      return;
    }
    void reply.status(404).send(errorBody(new ChatError('not_found', `no route ${request.method} ${request.url}`)));
  });

  const auth = async (request: FastifyRequest): Promise<DeviceRef> => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    return accounts.authenticate(token);
  };

  // ---- accounts
  app.post('/v1/auth/signup', async (request, reply) => {
    const body = parse(signupBody, request.body);
    return reply.status(201).send(await accounts.signup(body, request.ip));
  });
  app.post('/v1/auth/login', async (request) => accounts.login(parse(loginBody, request.body), request.ip));
  app.get('/v1/auth/config', async () => ({ signup: accounts.signupMode }));
  app.post('/v1/auth/logout', async (request, reply) => {
    const device = await auth(request);
    await accounts.logout(device);
    return reply.status(204).send();
  });
  app.get('/v1/me', async (request) => accounts.me((await auth(request)).userId));
  app.patch('/v1/me', async (request) => {
    const { userId } = await auth(request);
    const patch = parse(profilePatch, request.body);
    return { user: await profiles.update(userId, stripUndefined(patch)) };
  });
  app.get('/v1/users/:id', async (request) => {
    await auth(request);
    return { user: await accounts.getUser(parse(idParams, request.params).id) };
  });
  app.get('/v1/users', async (request) => {
    await auth(request);
    const { query, limit } = parse(userSearchQuery, request.query);
    return { users: await accounts.search(query, limit) };
  });
  app.get('/v1/presence', async (request) => {
    const { userId } = await auth(request);
    const { userIds } = parse(presenceQuery, request.query);
    const states = await presence.presenceFor(userId, userIds);
    return { presence: [...states].map(([userId, p]) => ({ userId, ...p })) };
  });

  // ---- your own account: password, devices, deletion, export, blocks
  app.post('/v1/me/password', async (request, reply) => {
    const device = await auth(request);
    await accounts.changePassword(device, parse(passwordChangeBody, request.body));
    return reply.status(204).send();
  });
  app.get('/v1/me/devices', async (request) => ({ devices: await accounts.devices(await auth(request)) }));
  app.delete('/v1/me/devices/:id', async (request, reply) => {
    const device = await auth(request);
    await accounts.signOutDevice(device, parse(idParams, request.params).id);
    return reply.status(204).send();
  });
  app.post('/v1/me/devices/sign-out-others', async (request, reply) => {
    await accounts.signOutOthers(await auth(request));
    return reply.status(204).send();
  });
  app.delete('/v1/me', async (request, reply) => {
    const { userId } = await auth(request);
    await accounts.deleteOwnAccount(userId, parse(accountDeleteBody, request.body).password);
    return reply.status(204).send();
  });
  app.get('/v1/me/export', async (request, reply) => {
    const { userId } = await auth(request);
    const chunks = await accountExport.export(userId);
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="parley-export-${userId}.json"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks));
  });
  app.get('/v1/me/blocks', async (request) => ({ blocks: await blocks.list((await auth(request)).userId) }));
  app.put('/v1/me/blocks/:userId', async (request, reply) => {
    const { userId } = await auth(request);
    await blocks.block(userId, parse(userParams, request.params).userId);
    return reply.status(204).send();
  });
  app.delete('/v1/me/blocks/:userId', async (request, reply) => {
    const { userId } = await auth(request);
    await blocks.unblock(userId, parse(userParams, request.params).userId);
    return reply.status(204).send();
  });

  // ---- invites
  app.post('/v1/invites', async (request, reply) => {
    const { userId } = await auth(request);
    return reply.status(201).send(await invites.create(userId, parse(inviteBody, request.body)));
  });
  app.get('/v1/invites', async (request) => ({ invites: await invites.list((await auth(request)).userId) }));
  app.delete('/v1/invites/:id', async (request, reply) => {
    const { userId } = await auth(request);
    await invites.revoke(userId, parse(idParams, request.params).id);
    return reply.status(204).send();
  });

  // ---- administration: every route answers `forbidden` to anyone but an administrator
  const adminAuth = async (request: FastifyRequest): Promise<DeviceRef> => {
    const device = await auth(request);
    await admin.requireAdmin(device.userId);
    return device;
  };
  app.get('/v1/admin/users', async (request) => {
    await adminAuth(request);
    return admin.listUsers(parse(adminUsersQuery, request.query));
  });
  app.post('/v1/admin/users', async (request, reply) => {
    await adminAuth(request);
    return reply.status(201).send({ user: await admin.createUser(parse(adminCreateUserBody, request.body)) });
  });
  app.get('/v1/admin/users/:id', async (request) => {
    await adminAuth(request);
    return { user: await admin.getUser(parse(idParams, request.params).id) };
  });
  app.patch('/v1/admin/users/:id', async (request) => {
    const { userId } = await adminAuth(request);
    const target = parse(idParams, request.params).id;
    const patch = parse(adminUserPatch, request.body);
    let user = await admin.getUser(target);
    if (patch.role !== undefined) user = await admin.setRole(userId, target, patch.role);
    if (patch.deactivated !== undefined) user = await admin.setDeactivated(userId, target, patch.deactivated);
    return { user };
  });
  app.post('/v1/admin/users/:id/password', async (request, reply) => {
    const { userId } = await adminAuth(request);
    const target = parse(idParams, request.params).id;
    await admin.resetPassword(userId, target, parse(adminPasswordBody, request.body).newPassword);
    return reply.status(204).send();
  });
  app.delete('/v1/admin/users/:id', async (request, reply) => {
    const { userId } = await adminAuth(request);
    await admin.deleteUser(userId, parse(idParams, request.params).id);
    return reply.status(204).send();
  });
  app.get('/v1/admin/stats', async (request) => {
    await adminAuth(request);
    return admin.stats(parse(adminStatsQuery, request.query).days);
  });

  // ---- friends
  app.post('/v1/friends/requests', async (request, reply) => {
    const { userId } = await auth(request);
    const { request: friendRequest } = await friends.request(userId, parse(userIdBody, request.body).userId);
    return reply.status(201).send({ request: friendRequest });
  });
  app.get('/v1/friends/requests', async (request) => friends.requests((await auth(request)).userId));
  app.post('/v1/friends/requests/:id/accept', async (request) => {
    const { userId } = await auth(request);
    return { friend: await friends.accept(userId, parse(idParams, request.params).id) };
  });
  app.delete('/v1/friends/requests/:id', async (request, reply) => {
    const { userId } = await auth(request);
    await friends.decline(userId, parse(idParams, request.params).id);
    return reply.status(204).send();
  });
  app.get('/v1/friends', async (request) => ({ friends: await friends.list((await auth(request)).userId) }));
  app.delete('/v1/friends/:userId', async (request, reply) => {
    const { userId } = await auth(request);
    await friends.remove(userId, parse(userParams, request.params).userId);
    return reply.status(204).send();
  });

  // ---- channels
  app.post('/v1/dms', async (request) => {
    const { userId } = await auth(request);
    return { channel: await channels.openDm(userId, parse(userIdBody, request.body).userId) };
  });
  app.post('/v1/groups', async (request, reply) => {
    const { userId } = await auth(request);
    const { name, memberIds } = parse(groupBody, request.body);
    return reply.status(201).send({ channel: await channels.createGroup(userId, name, memberIds) });
  });
  app.get('/v1/channels', async (request) => {
    const { userId } = await auth(request);
    return channels.list(userId, stripUndefined(parse(channelsQuery, request.query)));
  });
  app.get('/v1/channels/:id', async (request) => {
    const { userId } = await auth(request);
    return { channel: await channels.get(userId, parse(idParams, request.params).id) };
  });
  app.patch('/v1/channels/:id', async (request) => {
    const { userId } = await auth(request);
    const { name } = parse(groupPatch, request.body);
    return { channel: await channels.rename(userId, parse(idParams, request.params).id, name) };
  });
  app.post('/v1/channels/:id/members', async (request) => {
    const { userId } = await auth(request);
    const channelId = parse(idParams, request.params).id;
    return { channel: await channels.addMember(userId, channelId, parse(userIdBody, request.body).userId) };
  });
  app.delete('/v1/channels/:id/members/:userId', async (request, reply) => {
    const { userId } = await auth(request);
    const params = parse(memberParams, request.params);
    await channels.removeMember(userId, params.id, params.userId);
    return reply.status(204).send();
  });
  app.patch('/v1/channels/:id/members/:userId', async (request) => {
    const { userId } = await auth(request);
    const params = parse(memberParams, request.params);
    const { role } = parse(memberRolePatch, request.body);
    return { channel: await channels.setRole(userId, params.id, params.userId, role) };
  });

  // ---- messages
  app.get('/v1/channels/:id/messages', async (request) => {
    const { userId } = await auth(request);
    const channelId = parse(idParams, request.params).id;
    const query = parse(historyQuery, request.query);
    await channels.requireMember(userId, channelId);
    return messages.history(channelId, stripUndefined(query), userId);
  });
  app.post('/v1/channels/:id/messages', async (request, reply) => {
    const device = await auth(request);
    const channelId = parse(idParams, request.params).id;
    const body = parse(sendBody, request.body);
    const message = await messages.send(device.userId, device.deviceId, { channelId, ...body });
    return reply.status(201).send({ message });
  });
  app.patch('/v1/channels/:id/messages/:messageId', async (request) => {
    const { userId } = await auth(request);
    const { id: channelId, messageId } = parse(messageParams, request.params);
    const { text } = parse(editBody, request.body);
    return { message: await messageChanges.edit(userId, { channelId, messageId }, text) };
  });
  app.delete('/v1/channels/:id/messages/:messageId', async (request, reply) => {
    const { userId } = await auth(request);
    const { id: channelId, messageId } = parse(messageParams, request.params);
    await messageChanges.delete(userId, { channelId, messageId });
    return reply.status(204).send();
  });
  for (const [method, add] of [
    ['PUT', true],
    ['DELETE', false],
  ] as const) {
    app.route({
      method,
      url: '/v1/channels/:id/messages/:messageId/reactions/:emoji',
      handler: async (request) => {
        const { userId } = await auth(request);
        const { id: channelId, messageId, emoji } = parse(reactionParams, request.params);
        return { message: await messageChanges.react(userId, { channelId, messageId }, emoji, add) };
      },
    });
  }
  app.post('/v1/channels/:id/read', async (request, reply) => {
    const { userId } = await auth(request);
    const channelId = parse(idParams, request.params).id;
    await channels.markRead(userId, channelId, parse(readBody, request.body).messageId);
    return reply.status(204).send();
  });
  app.get('/v1/sync', async (request) => {
    const { userId } = await auth(request);
    const { since, limit } = parse(syncQuery, request.query);
    return messages.sync(userId, since, limit);
  });

  // ---- search and mentions
  app.get('/v1/search', async (request) => {
    const { userId } = await auth(request);
    return search.search(userId, stripUndefined(parse(searchQuery, request.query)));
  });
  app.get('/v1/mentions', async (request) => {
    const { userId } = await auth(request);
    return search.mentions(userId, stripUndefined(parse(mentionsQuery, request.query)));
  });

  // ---- push notifications
  app.get('/v1/push/config', async () => {
    const { providers, vapidPublicKey } = deps.push;
    return {
      enabled: providers.length > 0,
      providers,
      ...(vapidPublicKey === undefined ? {} : { vapidPublicKey }),
    };
  });
  app.post('/v1/push/subscriptions', async (request, reply) => {
    const device = await auth(request);
    await deps.push.registrations.register(
      { userId: device.userId, deviceId: device.deviceId },
      parse(pushSubscriptionBody, request.body),
    );
    return reply.status(201).send({});
  });
  app.delete('/v1/push/subscriptions', async (request, reply) => {
    const { userId } = await auth(request);
    await deps.push.registrations.unregister(userId, parse(pushEndpointBody, request.body));
    return reply.status(204).send();
  });
  app.get('/v1/push/settings', async (request) => {
    const { userId } = await auth(request);
    return deps.pushSettings.settings(userId);
  });
  app.patch('/v1/push/settings', async (request) => {
    const { userId } = await auth(request);
    return deps.pushSettings.update(userId, parse(pushSettingsBody, request.body));
  });
  app.patch('/v1/channels/:id/settings', async (request) => {
    const { userId } = await auth(request);
    const channelId = parse(idParams, request.params).id;
    return deps.pushSettings.setMuted(userId, channelId, parse(channelSettingsBody, request.body).muted);
  });

  // ---- discovery
  app.get('/v1/gateway', async (request: FastifyRequest, reply: FastifyReply) => {
    const picked = await deps.pickGateway();
    if (picked === undefined) throw new ChatError('unavailable', 'no chat server is available');
    const url = picked.url ?? deriveWsUrl(request);
    return reply.header('cache-control', 'no-store').send({ url, nodeId: picked.nodeId });
  });
}

/** ws(s)://<the host the client used>/v1/ws, honouring a TLS-terminating proxy. */
function deriveWsUrl(request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const secure = forwarded === 'https' || request.protocol === 'https';
  return `${secure ? 'wss' : 'ws'}://${request.headers.host ?? 'localhost'}/v1/ws`;
}

/** Drops undefined fields (exactOptionalPropertyTypes-friendly patches). */
function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
