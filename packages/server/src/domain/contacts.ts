import type { BlockStore, ChannelStore, FriendStore } from '../ports/store.js';

/**
 * The people a user has chosen to be in touch with: friends, DM partners, and members of the
 * groups they share of at most `maxGroupSize` members. Presence goes to them (presence.ts), a
 * profile change reaches them (profiles.ts), and only they may ask for the user's presence.
 * The user is not among them, nor is anyone who blocked the user or whom the user blocked
 * (blocks.ts): a block hides presence both ways.
 */
export async function contactsOf(
  store: FriendStore & ChannelStore & BlockStore,
  userId: string,
  maxGroupSize: number,
): Promise<Set<string>> {
  const [friends, partners, peers, blocked] = await Promise.all([
    store.listFriendIds(userId),
    store.dmPartners(userId),
    store.channelPeers(userId, maxGroupSize),
    store.blockedPeers(userId),
  ]);
  const contacts = new Set([...friends, ...partners, ...peers]);
  contacts.delete(userId);
  for (const id of blocked) contacts.delete(id);
  return contacts;
}
