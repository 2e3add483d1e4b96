/**
 * The composition root: the only place that picks backends (by config) and wires roles.
 * Scale-out adapters are loaded with a dynamic import only when the config names them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';
import fastifyStatic from '@fastify/static';
import { ChatError } from '@parley/protocol';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { pino, type Logger as PinoLogger } from 'pino';
import { errorBody, frameworkErrorOptions, rawErrorResponse, registerApi } from './api/http.js';
import { SearchService } from './domain/search.js';
import { registerSecurityHeaders } from './api/security-headers.js';
import type { ServerConfig } from './config/config.js';
import { AccessLimits } from './domain/access-limits.js';
import { AccountService } from './domain/accounts.js';
import { AdminService } from './domain/admin.js';
import { BlockService } from './domain/blocks.js';
import { ExportService } from './domain/export.js';
import { InviteService } from './domain/invites.js';
import { ChannelService } from './domain/channels.js';
import { systemClock, type Clock } from './domain/clock.js';
import { EventRouter } from './domain/events.js';
import { FriendService } from './domain/friends.js';
import { SnowflakeGenerator } from './domain/ids.js';
import { MessageChangeService } from './domain/message-changes.js';
import { MessageService } from './domain/messages.js';
import { PresenceService } from './domain/presence.js';
import { ProfileService } from './domain/profiles.js';
import { LiveBus } from './gateway/bus-codec.js';
import { Gateway } from './gateway/gateway.js';
import { Metrics } from './metrics.js';
import type { Bus } from './ports/bus.js';
import type { NodeRegistry, NodeStatus } from './ports/cluster.js';
import type { PresenceStore } from './ports/presence.js';
import type { RateLimiter } from './ports/rate-limit.js';
import type { Store } from './ports/store.js';
import type { PushProvider } from './ports/push.js';
import { defaultPushOptions, PushNotifier, PushRegistrations, PushService, type PushOptions } from './domain/push.js';
import { PushSettingsService } from './domain/push-settings.js';
import { Discovery } from './domain/discovery.js';

export interface Backends {
  store: Store;
  bus: Bus;
  presence: PresenceStore;
  registry: NodeRegistry;
}

async function openBackends(config: ServerConfig): Promise<Backends> {
  let store: Store;
  if (config.storage.kind === 'postgres') {
    const { PostgresStore } = await import('./adapters/postgres/postgres-store.js');
    store = await PostgresStore.open({ url: config.storage.url, poolSize: config.storage.poolSize });
  } else {
    await mkdir(config.dataDir, { recursive: true });
    const { openSqliteStore } = await import('./adapters/sqlite/threaded-store.js');
    store = await openSqliteStore({ path: config.storage.path }, (reason) => {
      // Nothing can be stored any more: stop, and let the supervisor restart us (acked messages are on disk).
      console.error(reason);
      process.kill(process.pid, 'SIGTERM');
    });
  }
  if (config.bus.kind === 'redis') {
    const [{ RedisBus }, { RedisPresenceStore }, { RedisNodeRegistry }] = await Promise.all([
      import('./adapters/redis/redis-bus.js'),
      import('./adapters/redis/redis-presence.js'),
      import('./adapters/redis/redis-registry.js'),
    ]);
    const options = { url: config.bus.url, prefix: config.bus.prefix };
    const [bus, presence, registry] = await Promise.all([
      RedisBus.open(options),
      RedisPresenceStore.open(options),
      RedisNodeRegistry.open({
        ...options,
        onLeaseLost: () => {
          // Ids minted from now on could collide with another node's: stop and let the supervisor restart us.
          process.kill(process.pid, 'SIGTERM');
        },
      }),
    ]);
    return { store, bus, presence, registry };
  }
  const [{ MemoryBus }, { MemoryPresenceStore }, { MemoryNodeRegistry }] = await Promise.all([
    import('./adapters/memory/memory-bus.js'),
    import('./adapters/memory/memory-presence.js'),
    import('./adapters/memory/memory-registry.js'),
  ]);
  return {
    store,
    bus: new MemoryBus(),
    presence: new MemoryPresenceStore(),
    registry: new MemoryNodeRegistry(),
  };
}

/**
 * VAPID keys from the config; in embedded mode, generated once and kept in the data directory.
 * A fleet must configure them (every notifier signs with the same key).
 */
async function vapidKeys(config: ServerConfig): Promise<{ publicKey: string; privateKey: string } | undefined> {
  const { vapidPublicKey, vapidPrivateKey } = config.push;
  if (vapidPublicKey && vapidPrivateKey) return { publicKey: vapidPublicKey, privateKey: vapidPrivateKey };
  if (config.storage.kind !== 'sqlite') return undefined;
  const file = path.join(config.dataDir, 'vapid.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { publicKey: string; privateKey: string };
  } catch {
    const { WebPushProvider } = await import('./adapters/webpush/web-push-provider.js');
    const keys = WebPushProvider.generateKeys();
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(keys), { mode: 0o600 });
    return keys;
  }
}

/** The push providers the config has credentials for (Web Push when there are VAPID keys). */
async function openPushProviders(
  config: ServerConfig,
  keys: { publicKey: string; privateKey: string } | undefined,
): Promise<PushProvider[]> {
  const { push } = config;
  const providers: PushProvider[] = [];
  const ca = push.ca === undefined ? {} : { ca: push.ca };
  if (keys !== undefined) {
    const { WebPushProvider } = await import('./adapters/webpush/web-push-provider.js');
    const { Agent } = await import('node:https');
    providers.push(
      new WebPushProvider({
        vapidPublicKey: keys.publicKey,
        vapidPrivateKey: keys.privateKey,
        subject: push.vapidSubject,
        timeoutMs: push.timeoutMs,
        ...(push.ca === undefined ? {} : { agent: new Agent({ ca: push.ca }) }),
      }),
    );
  }
  if (push.apns !== undefined) {
    const { ApnsProvider } = await import('./adapters/apns/apns-provider.js');
    providers.push(new ApnsProvider({ ...push.apns, timeoutMs: push.timeoutMs, ...ca }));
  }
  if (push.fcm !== undefined) {
    const { FcmProvider } = await import('./adapters/fcm/fcm-provider.js');
    providers.push(new FcmProvider({ ...push.fcm, timeoutMs: push.timeoutMs, ...ca }));
  }
  return providers;
}

/** The fleet-wide rate limiter: on Redis when the fleet has one, else in this process. */
async function openRateLimiter(config: ServerConfig): Promise<RateLimiter> {
  if (config.bus.kind === 'redis') {
    const { RedisRateLimiter } = await import('./adapters/redis/redis-rate-limiter.js');
    return RedisRateLimiter.open({ url: config.bus.url, prefix: config.bus.prefix });
  }
  const { MemoryRateLimiter } = await import('./adapters/memory/memory-rate-limiter.js');
  return new MemoryRateLimiter();
}

/** Fastify's trustProxy; a hop count means "the nearest N proxies". */
function trustProxy(setting: boolean | number | string[]) {
  return typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting;
}

/** Test seams: parts a test may replace (the real ones are used otherwise). */
export interface ServerOverrides {
  /** Replace the push providers the config names (e.g. ones trusting a test CA). */
  pushProviders?: PushProvider[];
  /** Random source of the push retries' jitter. */
  pushRandom?: () => number;
  /** E.g. one on a test clock. */
  rateLimiter?: RateLimiter;
  /** The domain's clock (token lifetimes, timestamps, heartbeats). */
  clock?: Clock;
}

export interface ParleyServer {
  readonly config: ServerConfig;
  readonly nodeId: string;
  /** http://host:port once listening. */
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly log: PinoLogger;
  /** Graceful stop: finishes commits and acks them, closes sockets with "going away", stops timers and backends. */
  close(): Promise<void>;
}

const hasRole = (config: ServerConfig, role: 'api' | 'gateway' | 'notifier') =>
  config.role === 'all' || config.role === role;

export async function createServer(
  config: ServerConfig,
  backends?: Backends,
  overrides: ServerOverrides = {},
): Promise<ParleyServer> {
  const log = pino({ level: config.logLevel, base: { role: config.role } });
  const { store, bus, presence: presenceStore, registry } = backends ?? (await openBackends(config));
  const nodeNumber = config.nodeId ?? (await registry.leaseNodeId());
  const nodeId = String(nodeNumber);
  const clock = overrides.clock ?? systemClock;
  const ids = new SnowflakeGenerator(nodeNumber);
  const metrics = new Metrics();

  const live = new LiveBus(bus, log, () => metrics.busPayloadsDropped++);
  const events = new EventRouter(store, live, log);
  const presence = new PresenceService(
    store,
    presenceStore,
    events,
    clock,
    {
      graceMs: config.presence.graceMs,
      fanoutMaxGroupSize: config.presence.fanoutMaxGroupSize,
      leaseTtlMs: config.gateway.heartbeatTimeoutMs,
    },
    log,
  );
  const rateLimiter = overrides.rateLimiter ?? (await openRateLimiter(config));
  const accessLimits = new AccessLimits(rateLimiter, config.rateLimits);
  const accounts = new AccountService(
    store,
    ids,
    clock,
    accessLimits,
    { signup: config.accounts.signup, deletedAccountMessages: config.accounts.deletedAccountMessages },
    live,
    events,
    config.passwordHashCost,
    config.tokenLifetimeMs,
  );
  const blocks = new BlockService(store, events, clock);
  const invites = new InviteService(store, ids, clock, config.accounts.memberInvites);
  const admin = new AdminService(store, accounts, registry, ids, clock, config.passwordHashCost);
  const accountExport = new ExportService(store, clock);
  const channels = new ChannelService(store, events, presence, ids, clock, blocks);
  const friends = new FriendService(store, events, presence, ids, clock, blocks);
  const profiles = new ProfileService(store, events, clock);
  const keys = await vapidKeys(config);
  const pushProviders = overrides.pushProviders ?? (await openPushProviders(config, keys));
  const providerKinds = pushProviders.map((p) => p.kind);
  if (pushProviders.length === 0) {
    log.warn('push notifications are off: configure VAPID keys, APNs or FCM (docs/operations.md)');
  }
  const pushOptions: PushOptions = {
    ...defaultPushOptions,
    coalesceMs: config.push.coalesceMs,
    maxAttempts: config.push.maxAttempts,
    concurrency: config.push.concurrency,
    pollMs: config.push.pollMs,
    leaseMs: config.push.leaseMs,
  };
  const pushRegistrations = new PushRegistrations(store, providerKinds, clock);
  let notifier: PushNotifier | undefined;
  const push =
    pushProviders.length === 0
      ? undefined
      : new PushService(store, presenceStore, clock, pushOptions, log, metrics.push, () => notifier?.wake());
  const messages = new MessageService(store, events, ids, clock, config.limits, log, metrics, push);
  const messageChanges = new MessageChangeService(store, events, clock, config.messageChanges, push);
  if (push !== undefined && hasRole(config, 'notifier')) {
    notifier = new PushNotifier(
      store,
      presenceStore,
      pushProviders,
      clock,
      pushOptions,
      `${nodeId}:${process.pid}:${ids.next()}`,
      log,
      metrics.push,
      overrides.pushRandom,
    );
    notifier.start();
  }

  const app = Fastify({
    // pino's Logger type is narrower than Fastify's; the instance is what Fastify expects.
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.gateway.maxPayloadBytes,
    // Our own hook below answers requests that arrive while closing, in the documented shape.
    return503OnClosing: false,
    ...frameworkErrorOptions,
    trustProxy: trustProxy(config.rateLimits.trustProxy),
  });
  await registerSecurityHeaders(app);
  let stopping = false;
  app.addHook('onRequest', async (request, reply) => {
    if (stopping) {
      await reply
        .status(503)
        .header('connection', 'close')
        .send(errorBody(new ChatError('unavailable', 'the server is shutting down; try again')));
      return;
    }
    // A body declared too large is refused before it is read, but the connection stays open:
    // Node discards the rest of the body, so a client still sending it reads the 413 instead of
    // a broken pipe (Fastify's own check closes the connection under the client's writes).
    if (Number(request.headers['content-length']) > config.gateway.maxPayloadBytes) {
      await reply.status(413).send(errorBody(new ChatError('payload_too_large', 'the request body is too large')));
    }
  });

  let gateway: Gateway | undefined;
  if (hasRole(config, 'gateway')) {
    gateway = new Gateway(
      {
        nodeId,
        heartbeatMs: config.gateway.heartbeatMs,
        heartbeatTimeoutMs: config.gateway.heartbeatTimeoutMs,
        helloTimeoutMs: config.gateway.helloTimeoutMs,
        maxBufferedBytes: config.gateway.maxBufferedBytes,
        maxProcessBufferedBytes: config.gateway.maxProcessBufferedBytes,
        maxSocketsPerUser: config.gateway.maxSocketsPerUser,
        maxSocketsPerAddress: config.gateway.maxSocketsPerAddress,
        maxEarlyBytes: config.gateway.maxEarlyBytes,
        maxPayloadBytes: config.gateway.maxPayloadBytes,
        typingThrottleMs: config.limits.typingThrottleMs,
      },
      { accounts, channels, messages, presence, events, live, clock, log },
    );
    const ws = gateway;
    // The same proxies are believed about a socket's address as about an HTTP request's.
    const trusted = config.rateLimits.trustProxy;
    const trust =
      typeof trusted === 'boolean'
        ? () => trusted
        : typeof trusted === 'number'
          ? (_address: string, hop: number) => hop < trusted
          : proxyaddr.compile(trusted);
    // With no proxy trusted the peer is the client: no header parsing per upgrade.
    const clientAddress =
      trusted === false
        ? (request: IncomingMessage) => request.socket.remoteAddress ?? ''
        : (request: IncomingMessage) => proxyaddr(request, trust);
    app.server.on('upgrade', (request, socket, head) => {
      const url = request.url ?? '/';
      const query = url.indexOf('?');
      if ((query === -1 ? url : url.slice(0, query)) === '/v1/ws') {
        ws.handleUpgrade(request, socket, head, clientAddress(request));
      } else {
        socket.end(rawErrorResponse(new ChatError('not_found', 'WebSocket connections go to /v1/ws')));
      }
    });
  }

  app.get('/healthz', async () => ({ status: 'ok', nodeId, role: config.role }));
  app.get('/metrics', async (_request, reply) =>
    reply
      .header('content-type', 'text/plain; version=0.0.4')
      .send(metrics.render({ parley_connections: gateway?.connectionCount ?? 0 })),
  );

  const announceTtl = Math.max(3 * config.gateway.heartbeatMs, 5_000);
  const announceEveryMs = Math.max(1000, Math.floor(announceTtl / 3));
  const discovery = new Discovery(registry, clock, announceEveryMs);
  if (hasRole(config, 'api')) {
    const serveWeb = config.webDir !== undefined && existsSync(config.webDir);
    await registerApi(app, {
      serveAppShell: serveWeb,
      accounts,
      profiles,
      friends,
      channels,
      messages,
      messageChanges,
      presence,
      search: new SearchService(store),
      blocks,
      invites,
      admin,
      accountExport,
      pushSettings: new PushSettingsService(store, events, clock),
      push: {
        providers: providerKinds,
        ...(keys !== undefined && providerKinds.includes('webpush') ? { vapidPublicKey: keys.publicKey } : {}),
        registrations: pushRegistrations,
      },
      pickGateway: async () => {
        const best = await discovery.pick();
        // Nothing announced yet (just started): this process, if it holds sockets.
        if (best === undefined) return gateway ? { nodeId } : undefined;
        return best.wsUrl === undefined ? { nodeId: best.nodeId } : { url: best.wsUrl, nodeId: best.nodeId };
      },
    });
    if (serveWeb) await app.register(fastifyStatic, { root: config.webDir!, wildcard: false });
  }

  // ---- background work
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, work: () => Promise<void>) => {
    const timer = setInterval(
      () => void work().catch((err: unknown) => log.warn({ err }, 'background task failed')),
      ms,
    );
    timer.unref();
    timers.push(timer);
  };
  every(Math.max(500, Math.floor(config.gateway.heartbeatTimeoutMs / 4)), () => presence.sweepExpired());
  if (config.logRetentionDays > 0 && hasRole(config, 'notifier')) {
    every(60 * 60 * 1000, async () => {
      const before = new Date(clock.now() - config.logRetentionDays * 86_400_000).toISOString();
      const trimmed = await store.trimLog(before);
      if (trimmed > 0) log.info({ trimmed }, 'trimmed update log');
    });
  }

  await app.listen({ host: config.host, port: config.port });
  const { port } = app.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const baseUrl = `http://${host}:${port}`;
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const fleet = config.role === 'gateway' || config.bus.kind === 'redis';
  /** Where clients reach this gateway; undefined = "the host the client used" (embedded mode). */
  const wsUrl = config.advertiseUrl ?? (fleet && !wildcard ? `ws://${host}:${port}/v1/ws` : undefined);
  const status = (): NodeStatus => {
    const s: NodeStatus = {
      nodeId,
      role: config.role,
      connections: gateway?.connectionCount ?? 0,
      capacity: config.gateway.capacity,
    };
    if (gateway !== undefined && wsUrl !== undefined) s.wsUrl = wsUrl;
    return s;
  };
  await registry.announce(status(), announceTtl);
  every(announceEveryMs, () => registry.announce(status(), announceTtl));
  log.info({ port, nodeId, storage: config.storage.kind, bus: config.bus.kind }, 'listening');
  if (hasRole(config, 'api')) {
    log.info(
      { signup: config.accounts.signup, memberInvites: config.accounts.memberInvites },
      `sign-up mode: ${config.accounts.signup} (${config.accounts.signupReason})`,
    );
  }

  let closing: Promise<void> | undefined;
  /**
   * A graceful stop within config.shutdownTimeoutMs: no new sockets, sends or connections; the
   * commits in flight finish and their acks go out on the sockets still open (so no sender has
   * to resend what was stored); then the sockets close with 1001 and the backends close.
   */
  const shutdown = async () => {
    const started = Date.now();
    const budget = config.shutdownTimeoutMs;
    // Commits get 60% of the time, closing handshakes 20%, the backends the rest.
    const commitsBy = started + budget * 0.6;
    const socketsBy = started + budget * 0.8;
    for (const timer of timers) clearInterval(timer);
    stopping = true;
    gateway?.stopAccepting();
    // Discovery stops sending clients here before the sockets close and they look for a gateway.
    await within(started + budget * 0.1, registry.withdraw());
    // Stops listening at once; requests under way (an HTTP send waiting for its commit) finish.
    const httpClosed = app.close();
    const drained = await within(commitsBy, messages.drain());
    if (!drained) log.error('commits still in flight at the shutdown deadline; their senders will resend');
    // Acks are resolved promises: let them reach the sockets before those close.
    await new Promise((resolve) => setImmediate(resolve));
    await gateway?.close(socketsBy);
    await within(socketsBy, httpClosed);
    await within(socketsBy, push?.settle() ?? Promise.resolve());
    await presence.shutdown().catch(() => undefined);
    await registry.close();
    // The notifier finishes the groups it holds (their jobs stay in the outbox until then).
    await within(started + budget * 0.95, notifier?.close() ?? Promise.resolve());
    await rateLimiter.close();
    await presenceStore.close();
    await bus.close();
    await store.close();
    log.info({ ms: Date.now() - started, drained }, 'stopped');
  };
  return {
    config,
    nodeId,
    baseUrl,
    wsUrl: `ws://${host}:${port}/v1/ws`,
    log,
    close: () => (closing ??= shutdown()),
  };
}

/** Waits for `work` until `deadline` (a Date.now() time); true if it finished by then. */
async function within(deadline: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), deadline - Date.now())));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
