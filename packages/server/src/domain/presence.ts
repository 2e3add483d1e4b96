/**
 * Presence: a user is online while any of their devices holds a live socket that heartbeats.
 * Going offline waits out a grace period so that a quick reconnect does not flap the status.
 * Changes fan out to the user's contacts (contacts.ts): friends, DM partners (an open DM is a
 * choice to be in touch) and members of shared groups up to a configured size. Only contacts,
 * in groups of any size, may ask for a user's presence; to anyone else it is `unknown`.
 */
import { limits, type Presence, type PresenceFrame } from '@parley/protocol';
import type { ConnectionLease, PresenceStore } from '../ports/presence.js';
import type { AccountStore, BlockStore, ContactStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { contactsOf } from './contacts.js';
import type { EventRouter, Logger } from './events.js';

export interface PresenceOptions {
  graceMs: number;
  fanoutMaxGroupSize: number;
  /** How long a lease lives without a heartbeat (the heartbeat timeout). */
  leaseTtlMs: number;
}

/**
 * Graces that run out within the same OFFLINE_BATCH_MS share one sweep, and so one offline write.
 * The sweep runs one batch after the grace's end, so a timer firing a little early still finds it over.
 */
const OFFLINE_BATCH_MS = 100;

/** Users announced offline together: their audiences are read at once (in one read transaction on SQLite). */
const ANNOUNCE_SLICE = 64;

export class PresenceService {
  /**
   * Users whose connection closed here, and when their grace ends: a graceful stop records when
   * they were last seen (on a single node, nobody else will). The grace itself lives in the
   * presence store, where every node sees it.
   */
  readonly #leftHere = new Map<string, number>();
  /** Sweeps for offline users, by the time they run (a multiple of OFFLINE_BATCH_MS). */
  readonly #sweeps = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly store: AccountStore & BlockStore & ContactStore,
    private readonly presenceStore: PresenceStore,
    private readonly events: EventRouter,
    private readonly clock: Clock,
    private readonly options: PresenceOptions,
    private readonly log: Logger,
  ) {}

  /** Everyone who sees this user's presence changes (and whose changes this user sees). */
  audience(userId: string): Promise<Set<string>> {
    return contactsOf(this.store, userId, this.options.fanoutMaxGroupSize);
  }

  /**
   * Presence as `viewerId` may see it: their own and their contacts' (friends, DM partners,
   * members of any group they share, whatever its size: GET /v1/presence is how members of
   * groups too large for live presence ask); everyone else's is `unknown`, with no last-seen.
   */
  async presenceFor(viewerId: string, userIds: readonly string[]): Promise<Map<string, Presence>> {
    const contacts = await contactsOf(this.store, viewerId, limits.maxGroupMembers);
    const visible = userIds.filter((id) => id === viewerId || contacts.has(id));
    const presence = await this.presenceOf(visible);
    return new Map(userIds.map((id) => [id, presence.get(id) ?? { status: 'unknown' }]));
  }

  /**
   * Presence of people `viewerId` already shares a channel or friendship with (a channel's
   * members, friends), except that a pair where either blocked the other sees `unknown`.
   */
  async presenceShownTo(viewerId: string, userIds: readonly string[]): Promise<Map<string, Presence>> {
    const [presence, blocked] = await Promise.all([this.presenceOf(userIds), this.store.blockedPeers(viewerId)]);
    for (const id of blocked) if (presence.has(id)) presence.set(id, { status: 'unknown' });
    return presence;
  }

  async presenceOf(userIds: readonly string[]): Promise<Map<string, Presence>> {
    if (userIds.length === 0) return new Map();
    const online = await this.presenceStore.shownOnline(userIds);
    // Last seen only for those offline: after a reconnect storm nearly everyone's contacts are
    // online, and each hello's presence snapshot then reads nothing from the store.
    const offline = userIds.filter((userId) => !online.has(userId));
    const lastSeen = offline.length === 0 ? new Map<string, string>() : await this.store.getLastSeen(offline);
    const result = new Map<string, Presence>();
    for (const userId of userIds) {
      // Shown online includes the grace after a user's last connection closed, on whichever node.
      if (online.has(userId)) {
        result.set(userId, { status: 'online' });
      } else {
        const seen = lastSeen.get(userId);
        result.set(userId, seen === undefined ? { status: 'offline' } : { status: 'offline', lastSeenAt: seen });
      }
    }
    return result;
  }

  /**
   * A session started: the user is online to their audience, unless present already. Returns
   * that audience, whose presence the new session is then shown, so that a hello reads the
   * user's contacts once.
   */
  async connected(lease: ConnectionLease): Promise<Set<string>> {
    this.#leftHere.delete(lease.userId);
    const [{ wasPresent }, audience] = await Promise.all([
      this.presenceStore.touch(lease, this.options.leaseTtlMs),
      this.audience(lease.userId),
    ]);
    // Present already (another connection, the grace after a close on any node, or gone with the
    // offline not yet announced): to everyone else the user never went offline.
    if (!wasPresent) await this.#announceTo(audience, lease.userId, { status: 'online' });
    return audience;
  }

  async heartbeat(lease: ConnectionLease): Promise<void> {
    await this.presenceStore.touch(lease, this.options.leaseTtlMs);
  }

  /**
   * If this was the user's last connection, the store starts their grace period; whichever node
   * sweeps first once it ran out (this one plans to) announces them offline, unless they came back.
   */
  async disconnected(lease: ConnectionLease): Promise<void> {
    await this.presenceStore.remove(lease, this.options.graceMs);
    const graceEnds = this.clock.now() + this.options.graceMs;
    this.#leftHere.set(lease.userId, graceEnds);
    this.#sweepAfter(graceEnds);
  }

  /**
   * Plans a sweep once `time` has passed. Why batched: when a gateway drops thousands of sockets
   * at once, their graces run out together, and one durable write per user held the store's
   * writer for seconds (4.7 s for 10,000 devices in the reconnect benchmark), which every
   * reconnecting device's hello waited behind.
   */
  #sweepAfter(time: number): void {
    const at = (Math.ceil(time / OFFLINE_BATCH_MS) + 1) * OFFLINE_BATCH_MS;
    if (this.#sweeps.has(at)) return;
    const timer = setTimeout(
      () => {
        this.#sweeps.delete(at);
        for (const [userId, graceEnds] of this.#leftHere) if (graceEnds < at) this.#leftHere.delete(userId);
        this.sweepExpired().catch((error: unknown) => this.log.warn({ err: error }, 'presence: offline sweep failed'));
      },
      Math.max(0, at - this.clock.now()),
    );
    timer.unref();
    this.#sweeps.set(at, timer);
  }

  /** Records lastSeenAt for all of them in one write, then tells each one's audience. */
  async #markAllOffline(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const lastSeenAt = isoNow(this.clock);
    await this.store.setLastSeen(userIds, lastSeenAt);
    // A slice at a time: one user at a time made each audience read a read transaction of its
    // own, and all at once would queue thousands of reads ahead of everything else.
    for (let at = 0; at < userIds.length; at += ANNOUNCE_SLICE) {
      const slice = userIds.slice(at, at + ANNOUNCE_SLICE);
      await Promise.all(slice.map((userId) => this.#announce(userId, { status: 'offline', lastSeenAt })));
    }
  }

  /**
   * Users whose last lease and grace ran out (they left, or their gateway died) and who are not
   * back: announce them offline. The store hands each one to one node only.
   */
  async sweepExpired(): Promise<void> {
    await this.#markAllOffline(await this.presenceStore.expired(this.clock.now()));
  }

  /**
   * Two users just became contacts (friends, or partners in a new DM): each one's devices learn
   * the other's presence at once, as the snapshot after `ready` would have told them.
   * Best-effort, like every presence frame.
   */
  async introduce(a: string, b: string): Promise<void> {
    try {
      const presence = await this.presenceOf([a, b]);
      await Promise.all([
        this.events.publishEphemeral([b], { op: 'presence', userId: a, ...presence.get(a)! } satisfies PresenceFrame),
        this.events.publishEphemeral([a], { op: 'presence', userId: b, ...presence.get(b)! } satisfies PresenceFrame),
      ]);
    } catch (error) {
      this.log.warn({ err: error }, 'presence: introducing new contacts failed');
    }
  }

  async #announce(userId: string, presence: Presence): Promise<void> {
    await this.#announceTo(await this.audience(userId), userId, presence);
  }

  async #announceTo(audience: Iterable<string>, userId: string, presence: Presence): Promise<void> {
    const frame: PresenceFrame = { op: 'presence', userId, ...presence };
    await this.events.publishEphemeral(audience, frame);
  }

  /**
   * Graceful stop: records when the users who left here during their grace were last seen. Their
   * grace keeps running in the store, so a device that reconnects through another gateway does
   * not flap; another node's sweep announces the ones that do not come back.
   */
  async shutdown(): Promise<void> {
    for (const timer of this.#sweeps.values()) clearTimeout(timer);
    this.#sweeps.clear();
    const userIds = [...this.#leftHere.keys()];
    this.#leftHere.clear();
    if (userIds.length > 0) await this.store.setLastSeen(userIds, isoNow(this.clock));
  }
}
