import type { ContactStore } from '../ports/store.js';

/**
 * The people a user has chosen to be in touch with: friends, DM partners, and members of the
 * groups they share of at most `maxGroupSize` members. Presence goes to them (presence.ts), a
 * profile change reaches them (profiles.ts), and only they may ask for the user's presence.
 * The user is not among them, nor is anyone who blocked the user or whom the user blocked
 * (blocks.ts): a block hides presence both ways.
 */
export async function contactsOf(store: ContactStore, userId: string, maxGroupSize: number): Promise<Set<string>> {
  const { friends, dmPartners, groupPeers, blocked } = await store.contactSources(userId, maxGroupSize);
  // Added one source at a time: spreading them into one array first made an array and an
  // iterator step per contact on every hello.
  const contacts = new Set(friends);
  for (const id of dmPartners) contacts.add(id);
  for (const id of groupPeers) contacts.add(id);
  contacts.delete(userId);
  for (const id of blocked) contacts.delete(id);
  return contacts;
}
