/**
 * A user's own push settings: mute per channel (synced to their other devices through the update
 * log as channel.settings.updated) and whether notifications carry message text.
 */
import type { PushSettings } from '@parley/protocol';
import type { PushSettingsStore } from '../ports/push.js';
import { isoNow, type Clock } from './clock.js';
import { fail, storeCall } from './errors.js';
import type { EventRouter } from './events.js';
import { channelSettingsUpdated } from './log-appends.js';

export class PushSettingsService {
  constructor(
    private readonly store: Pick<PushSettingsStore, 'setChannelMuted' | 'setPushPreviews' | 'pushPreviews'>,
    private readonly events: Pick<EventRouter, 'publish'>,
    private readonly clock: Clock,
  ) {}

  /** Mutes or unmutes the channel for the caller (a member; otherwise not_found). */
  async setMuted(userId: string, channelId: string, muted: boolean): Promise<{ channelId: string; muted: boolean }> {
    const write = await storeCall(
      this.store.setChannelMuted({
        channelId,
        userId,
        muted,
        at: isoNow(this.clock),
        events: [channelSettingsUpdated(channelId, userId, muted)],
      }),
    );
    if (write.status === 'stale') fail('not_found', 'no such channel');
    await this.events.publish(write.entries);
    return { channelId, muted };
  }

  async settings(userId: string): Promise<PushSettings> {
    return { previews: await storeCall(this.store.pushPreviews(userId)) };
  }

  async update(userId: string, patch: PushSettings): Promise<PushSettings> {
    await storeCall(this.store.setPushPreviews(userId, patch.previews));
    return { previews: patch.previews };
  }
}
