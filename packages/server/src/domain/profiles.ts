import { limits, type User } from '@parley/protocol';
import type { AccountStore, BlockStore, ContactStore, ProfilePatch } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { contactsOf } from './contacts.js';
import { storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import { userUpdated } from './log-appends.js';

/** Profile changes, which every device that shows the user learns as `user.updated`. */
export class ProfileService {
  constructor(
    private readonly store: AccountStore & BlockStore & ContactStore,
    private readonly events: EventRouter,
    private readonly clock: Clock,
  ) {}

  /**
   * Changes the display name or status. user.updated goes, in the same commit, to the user's
   * own devices, friends, DM partners and the members of every group they are in.
   */
  async update(userId: string, patch: { displayName?: string; statusText?: string }): Promise<User> {
    const change: ProfilePatch = { ...patch };
    if (patch.statusText === '') change.statusText = null; // '' clears the status
    const audience = await contactsOf(this.store, userId, limits.maxGroupMembers);
    const { user, entries } = await storeCall(
      this.store.updateProfile(userId, change, [userUpdated(userId, [userId, ...audience])], isoNow(this.clock)),
      'no such user',
    );
    await this.events.publish(entries);
    return user;
  }
}
