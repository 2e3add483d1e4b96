/**
 * Where each Store method runs: on the writer (the one connection that writes, on the writer
 * thread in a server) or on the reader (a `query_only` connection on the caller's thread).
 *
 * The compiler holds this table to the Store: a method of the Store that is not classified here
 * does not compile (`satisfies`), the writer (writer.ts) must implement exactly the methods
 * classified 'writer' and the reader (reader.ts) those classified 'reader', and routeStore below
 * cannot send a method to the side that does not have it. A new Store method is therefore placed
 * by one line here; see README.md for how to choose.
 */
import type { Store } from '../../ports/store.js';

type Side = 'writer' | 'reader';
type RoutedMethod = Exclude<keyof Store, 'close'>;

export const STORE_ROUTES = {
  // accounts
  createUser: 'writer',
  findUserByUsername: 'reader',
  getUser: 'reader',
  getUsers: 'reader',
  searchUsers: 'reader',
  updateProfile: 'writer',
  createDevice: 'writer',
  findDeviceByTokenHash: 'reader',
  touchDevice: 'writer',
  revokeDevice: 'writer',
  setLastSeen: 'writer',
  getLastSeen: 'reader',
  listAccounts: 'reader',
  changeAccount: 'writer',
  deleteAccount: 'writer',
  listDevices: 'reader',
  figures: 'reader',
  // invites
  createInvite: 'writer',
  findInvite: 'reader',
  getInvite: 'reader',
  listInvites: 'reader',
  revokeInvite: 'writer',
  // blocks
  changeBlock: 'writer',
  listBlocks: 'reader',
  blockedEitherWay: 'reader',
  blockedPeers: 'reader',
  // friends
  friendPair: 'reader',
  changeFriendPair: 'writer',
  getFriendRequest: 'reader',
  listFriendRequests: 'reader',
  listFriendIds: 'reader',
  areFriends: 'reader',
  // channels
  getOrCreateDm: 'writer',
  createGroup: 'writer',
  getChannel: 'reader',
  getRole: 'reader',
  memberIds: 'reader',
  contactSources: 'reader',
  listChannelViews: 'reader',
  changeChannel: 'writer',
  moveReadCursor: 'writer',
  // messages
  appendMessages: 'writer',
  listMessages: 'reader',
  getMessage: 'reader',
  // message changes
  editMessage: 'writer',
  deleteMessage: 'writer',
  addReaction: 'writer',
  removeReaction: 'writer',
  listReactions: 'reader',
  replySources: 'reader',
  listMessagesBySender: 'reader',
  // update log: its reads too, since only the writer knows the pending entries (pending-log.ts)
  appendLog: 'writer',
  readLog: 'writer',
  logBounds: 'writer',
  trimLog: 'writer',
  // push subscriptions
  savePushSubscription: 'writer',
  deletePushSubscription: 'writer',
  deleteDevicePushSubscriptions: 'writer',
  pushSubscriptions: 'reader',
  // search and mentions
  searchMessages: 'reader',
  mentions: 'reader',
  // push outbox and settings
  enqueuePush: 'writer',
  claimPush: 'writer',
  completePush: 'writer',
  retryPush: 'writer',
  markPushSent: 'writer',
  pushSentTo: 'reader',
  trimPushSent: 'writer',
  setChannelMuted: 'writer',
  pushRecipient: 'reader',
  setPushPreviews: 'writer',
  pushPreviews: 'reader',
} as const satisfies Record<RoutedMethod, Side>;

type Routes = typeof STORE_ROUTES;
type MethodsOn<S extends Side> = { [K in keyof Routes]: Routes[K] extends S ? K : never }[keyof Routes];

/** The Store methods the writer runs: every write, and the update log's reads. */
export type WriterMethod = MethodsOn<'writer'>;
/** The Store methods the reader runs. */
export type ReaderMethod = MethodsOn<'reader'>;
export type WriterSide = Pick<Store, WriterMethod>;
export type ReaderSide = Pick<Store, ReaderMethod>;

/**
 * The Store over its two sides. Each line can only name the side STORE_ROUTES puts the method
 * on (the other side's type lacks it), and the result must be a whole Store.
 */
export function routeStore(writer: WriterSide, reader: ReaderSide, close: () => Promise<void>): Store {
  return {
    createUser: (user) => writer.createUser(user),
    findUserByUsername: (username) => reader.findUserByUsername(username),
    getUser: (userId) => reader.getUser(userId),
    getUsers: (userIds) => reader.getUsers(userIds),
    searchUsers: (prefix, limit) => reader.searchUsers(prefix, limit),
    updateProfile: (userId, patch, events, at) => writer.updateProfile(userId, patch, events, at),
    createDevice: (device) => writer.createDevice(device),
    findDeviceByTokenHash: (tokenHash) => reader.findDeviceByTokenHash(tokenHash),
    touchDevice: (deviceId, at) => writer.touchDevice(deviceId, at),
    revokeDevice: (deviceId) => writer.revokeDevice(deviceId),
    setLastSeen: (userIds, at) => writer.setLastSeen(userIds, at),
    getLastSeen: (userIds) => reader.getLastSeen(userIds),
    listAccounts: (page) => reader.listAccounts(page),
    changeAccount: (change) => writer.changeAccount(change),
    deleteAccount: (deletion) => writer.deleteAccount(deletion),
    listDevices: (userId) => reader.listDevices(userId),
    figures: (sinceMessageId) => reader.figures(sinceMessageId),
    createInvite: (invite) => writer.createInvite(invite),
    findInvite: (codeHash) => reader.findInvite(codeHash),
    getInvite: (inviteId) => reader.getInvite(inviteId),
    listInvites: (createdBy, limit) => reader.listInvites(createdBy, limit),
    revokeInvite: (inviteId, at) => writer.revokeInvite(inviteId, at),
    changeBlock: (change) => writer.changeBlock(change),
    listBlocks: (blockerId) => reader.listBlocks(blockerId),
    blockedEitherWay: (a, b) => reader.blockedEitherWay(a, b),
    blockedPeers: (userId) => reader.blockedPeers(userId),
    friendPair: (a, b) => reader.friendPair(a, b),
    changeFriendPair: (change) => writer.changeFriendPair(change),
    getFriendRequest: (requestId) => reader.getFriendRequest(requestId),
    listFriendRequests: (userId) => reader.listFriendRequests(userId),
    listFriendIds: (userId) => reader.listFriendIds(userId),
    areFriends: (a, b) => reader.areFriends(a, b),
    getOrCreateDm: (dm, events) => writer.getOrCreateDm(dm, events),
    createGroup: (group, events) => writer.createGroup(group, events),
    getChannel: (channelId) => reader.getChannel(channelId),
    getRole: (channelId, userId) => reader.getRole(channelId, userId),
    memberIds: (channelId) => reader.memberIds(channelId),
    contactSources: (userId, maxGroupSize) => reader.contactSources(userId, maxGroupSize),
    listChannelViews: (userId, page) => reader.listChannelViews(userId, page),
    changeChannel: (change) => writer.changeChannel(change),
    moveReadCursor: (move) => writer.moveReadCursor(move),
    appendMessages: (batch) => writer.appendMessages(batch),
    listMessages: (channelId, query, maxTextBytes) => reader.listMessages(channelId, query, maxTextBytes),
    getMessage: (channelId, messageId) => reader.getMessage(channelId, messageId),
    editMessage: (edit) => writer.editMessage(edit),
    deleteMessage: (del) => writer.deleteMessage(del),
    addReaction: (change) => writer.addReaction(change),
    removeReaction: (change) => writer.removeReaction(change),
    listReactions: (refs) => reader.listReactions(refs),
    replySources: (refs, codePoints) => reader.replySources(refs, codePoints),
    listMessagesBySender: (senderId, afterId, limit, maxTextBytes) =>
      reader.listMessagesBySender(senderId, afterId, limit, maxTextBytes),
    appendLog: (appends, at) => writer.appendLog(appends, at),
    readLog: (userId, afterSeq, limit, maxTextBytes) => writer.readLog(userId, afterSeq, limit, maxTextBytes),
    logBounds: (userId) => writer.logBounds(userId),
    trimLog: (before) => writer.trimLog(before),
    savePushSubscription: (subscription) => writer.savePushSubscription(subscription),
    deletePushSubscription: (endpoint, userId) => writer.deletePushSubscription(endpoint, userId),
    deleteDevicePushSubscriptions: (deviceId) => writer.deleteDevicePushSubscriptions(deviceId),
    pushSubscriptions: (userIds) => reader.pushSubscriptions(userIds),
    searchMessages: (userId, query) => reader.searchMessages(userId, query),
    mentions: (userId, page) => reader.mentions(userId, page),
    enqueuePush: (jobs) => writer.enqueuePush(jobs),
    claimPush: (claim) => writer.claimPush(claim),
    completePush: (owner, userId, messageIds) => writer.completePush(owner, userId, messageIds),
    retryPush: (owner, userId, messageIds, dueAt, attempts) =>
      writer.retryPush(owner, userId, messageIds, dueAt, attempts),
    markPushSent: (endpoint, messageId, at) => writer.markPushSent(endpoint, messageId, at),
    pushSentTo: (endpoints, messageId) => reader.pushSentTo(endpoints, messageId),
    trimPushSent: (before) => writer.trimPushSent(before),
    setChannelMuted: (change) => writer.setChannelMuted(change),
    pushRecipient: (userId, channelId) => reader.pushRecipient(userId, channelId),
    setPushPreviews: (userId, previews) => writer.setPushPreviews(userId, previews),
    pushPreviews: (userId) => reader.pushPreviews(userId),
    close,
  };
}
