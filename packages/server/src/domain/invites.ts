/**
 * Invite codes: who may create them (administrators; members too when the server allows it),
 * how long they last and how often they may be used. A code is random and shown once, at its
 * creation; only its SHA-256 is stored (like a token). Sign-up redeems it (accounts.ts).
 */
import { randomBytes } from 'node:crypto';
import type { CreatedInvite, Invite } from '@parley/protocol';
import type { AccountStore, InviteRecord, InviteStore } from '../ports/store.js';
import { hashToken } from './accounts.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { IdGenerator } from './ids.js';

/** How many invites a listing shows (the newest). */
export const INVITE_LIST_LIMIT = 200;

export class InviteService {
  constructor(
    private readonly store: InviteStore & AccountStore,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    /** Members (not only administrators) may create invites. */
    private readonly memberInvites: boolean,
  ) {}

  async #isAdmin(userId: string): Promise<boolean> {
    return (await storeCall(this.store.getUser(userId)))?.role === 'admin';
  }

  async create(userId: string, options: { expiresInHours: number; maxUses: number }): Promise<CreatedInvite> {
    if (!this.memberInvites && !(await this.#isAdmin(userId))) {
      fail('forbidden', 'only administrators create invites on this server');
    }
    const code = randomBytes(18).toString('base64url');
    const now = this.clock.now();
    const record: InviteRecord = {
      id: this.ids.next(),
      codeHash: hashToken(code),
      createdBy: userId,
      createdAt: isoNow(this.clock),
      expiresAt: new Date(now + options.expiresInHours * 3_600_000).toISOString(),
      maxUses: options.maxUses,
      uses: 0,
    };
    await storeCall(this.store.createInvite(record));
    return { invite: toInvite(record), code, link: `/#/invite/${code}` };
  }

  /** Administrators see every invite; members their own. */
  async list(userId: string): Promise<Invite[]> {
    const createdBy = (await this.#isAdmin(userId)) ? undefined : userId;
    return (await storeCall(this.store.listInvites(createdBy, INVITE_LIST_LIMIT))).map(toInvite);
  }

  /** Its creator or an administrator revokes it. */
  async revoke(userId: string, inviteId: string): Promise<void> {
    const invite = await storeCall(this.store.getInvite(inviteId));
    if (invite === undefined || (invite.createdBy !== userId && !(await this.#isAdmin(userId)))) {
      fail('not_found', 'no such invite');
    }
    await storeCall(this.store.revokeInvite(inviteId, isoNow(this.clock)));
  }
}

function toInvite(record: InviteRecord): Invite {
  return {
    id: record.id,
    createdBy: record.createdBy,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    maxUses: record.maxUses,
    uses: record.uses,
    revoked: record.revokedAt !== undefined,
  };
}
