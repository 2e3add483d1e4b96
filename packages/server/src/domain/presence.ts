/**
 * Presence: a user is online while any of their devices holds a live socket that heartbeats.
 * Going offline waits out a grace period so that a quick reconnect does not flap the status.
 * Changes fan out to the user's contacts (contacts.ts): friends, DM partners (an open DM is a
 * choice to be in touch) and members of shared groups up to a configured size. Only contacts,
 * in groups of any size, may ask for a user's presence; to anyone else it is `unknown`.
 */
import { limits, type Presence, type PresenceFrame } from '@parley/protocol';
import type { ConnectionLease, PresenceStore } from '../ports/presence.js';
import type { AccountStore, ChannelStore, FriendStore } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { contactsOf } from './contacts.js';
import type { EventRouter, Logger } from './events.js';

export interface PresenceOptions {
  graceMs: number;
  fanoutMaxGroupSize: number;
  /** How long a lease lives without a heartbeat (the heartbeat timeout). */
  leaseTtlMs: number;
}

/** How long the first user whose grace ran out waits for others to go offline in the same write. */
const OFFLINE_BATCH_MS = 100;

export class PresenceService {
  /** Users whose last connection closed here, waiting out the grace period. */
  readonly #pendingOffline = new Map<string, NodeJS.Timeout>();
  /** Users whose grace period ran out, to be taken offline together (#takeOfflineTogether). */
  readonly #graceOver = new Set<string>();

  constructor(
    private readonly store: AccountStore & FriendStore & ChannelStore,
    private readonly presenceStore: PresenceStore,
    private readonly events: EventRouter,
    private readonly clock: Clock,
    private readonly options: PresenceOptions,
    private readonly log: Logger,
  ) {}

  /** Everyone who sees this user's presence changes (and whose changes this user sees). */
  async audience(userId: string): Promise<Set<string>> {
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

  async presenceOf(userIds: readonly string[]): Promise<Map<string, Presence>> {
    if (userIds.length === 0) return new Map();
    const [online, lastSeen] = await Promise.all([this.presenceStore.online(userIds), this.store.getLastSeen(userIds)]);
    const result = new Map<string, Presence>();
    for (const userId of userIds) {
      if (online.has(userId) || this.#goingOffline(userId)) {
        result.set(userId, { status: 'online' });
      } else {
        const seen = lastSeen.get(userId);
        result.set(userId, seen === undefined ? { status: 'offline' } : { status: 'offline', lastSeenAt: seen });
      }
    }
    return result;
  }

  async connected(lease: ConnectionLease): Promise<void> {
    const grace = this.#pendingOffline.get(lease.userId);
    if (grace !== undefined) {
      clearTimeout(grace);
      this.#pendingOffline.delete(lease.userId);
    }
    // Back within the grace period, or after it but before the offline write: to everyone else
    // the user never went offline, so there is nothing to announce.
    const shownOnline = grace !== undefined || this.#graceOver.delete(lease.userId);
    const wasOnline = shownOnline || (await this.presenceStore.online([lease.userId])).has(lease.userId);
    await this.presenceStore.touch(lease, this.options.leaseTtlMs);
    if (!wasOnline) {
      await this.#announce(lease.userId, { status: 'online' });
    }
  }

  async heartbeat(lease: ConnectionLease): Promise<void> {
    await this.presenceStore.touch(lease, this.options.leaseTtlMs);
  }

  async disconnected(lease: ConnectionLease): Promise<void> {
    await this.presenceStore.remove(lease);
    if ((await this.presenceStore.online([lease.userId])).has(lease.userId)) return;
    if (this.#pendingOffline.has(lease.userId)) return;
    const timer = setTimeout(() => {
      this.#pendingOffline.delete(lease.userId);
      this.#graceOver.add(lease.userId);
      if (this.#graceOver.size === 1) setTimeout(() => void this.#takeOfflineTogether(), OFFLINE_BATCH_MS).unref();
    }, this.options.graceMs);
    timer.unref();
    this.#pendingOffline.set(lease.userId, timer);
  }

  /**
   * Takes every user whose grace ran out in the last OFFLINE_BATCH_MS offline in one write. Why:
   * when a gateway drops thousands of sockets at once, their graces run out together, and one
   * durable write per user held the store's writer for seconds (4.7 s for 10,000 devices in the
   * reconnect benchmark), which every reconnecting device's hello waited behind.
   */
  async #takeOfflineTogether(): Promise<void> {
    const userIds = [...this.#graceOver];
    this.#graceOver.clear();
    if (userIds.length === 0) return;
    try {
      const back = await this.presenceStore.online(userIds);
      await this.#markAllOffline(userIds.filter((userId) => !back.has(userId)));
    } catch (error) {
      this.log.warn({ err: error, users: userIds.length }, 'presence: offline transition failed');
    }
  }

  /** Records lastSeenAt for all of them in one write, then tells each one's audience. */
  async #markAllOffline(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const lastSeenAt = isoNow(this.clock);
    await this.store.setLastSeen(userIds, lastSeenAt);
    for (const userId of userIds) await this.#announce(userId, { status: 'offline', lastSeenAt });
  }

  /** Users whose leases ran out without a goodbye (their gateway died): announce them offline. */
  async sweepExpired(): Promise<void> {
    const expired = await this.presenceStore.expired(this.clock.now());
    await this.#markAllOffline(expired.filter((userId) => !this.#goingOffline(userId)));
  }

  /** Gone from this node and still shown online: in the grace period, or about to be written offline. */
  #goingOffline(userId: string): boolean {
    return this.#pendingOffline.has(userId) || this.#graceOver.has(userId);
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
    const frame: PresenceFrame = { op: 'presence', userId, ...presence };
    await this.events.publishEphemeral(await this.audience(userId), frame);
  }

  /** Flushes pending offline transitions (graceful shutdown): their users are gone. */
  async shutdown(): Promise<void> {
    for (const [userId, timer] of this.#pendingOffline) {
      clearTimeout(timer);
      this.#graceOver.add(userId);
    }
    this.#pendingOffline.clear();
    await this.#takeOfflineTogether();
  }
}
