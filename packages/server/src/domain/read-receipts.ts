import type { ReadPositionFrame } from '@parley/protocol';

/** Read frames from one reader in one group go out at most once per this many ms. */
export const READ_RECEIPT_WINDOW_MS = 1000;

interface Window {
  timer: NodeJS.Timeout;
  /** The newest position read during the window, sent when it closes. */
  held?: { frame: ReadPositionFrame; to: readonly string[] };
}

/**
 * Live read positions in groups ("Seen by N"): an ephemeral `read` frame to the other members,
 * not a log entry each. Per reader and group, the first move goes out at once and later moves
 * within READ_RECEIPT_WINDOW_MS are coalesced into the newest, sent when the window closes. So a
 * reader scrolling through 50 messages costs at most two publishes, and a group of 100 costs at
 * most 99 small frames per reader per window. Lost frames cost nothing lasting: the read cursor
 * is stored, and the channel view carries every member's `lastReadMessageId`.
 */
export class ReadReceipts {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly publish: (userIds: readonly string[], frame: ReadPositionFrame) => Promise<void>,
    private readonly windowMs = READ_RECEIPT_WINDOW_MS,
  ) {}

  /** `readerId` moved their cursor in `channelId` to `messageId`; `to` are the other members. */
  share(channelId: string, readerId: string, messageId: string, to: readonly string[]): void {
    const frame: ReadPositionFrame = { op: 'read', channelId, userId: readerId, messageId };
    const key = `${channelId}:${readerId}`;
    const open = this.#windows.get(key);
    if (open !== undefined) {
      open.held = { frame, to };
      return;
    }
    this.#open(key);
    void this.publish(to, frame);
  }

  #open(key: string): void {
    const timer = setTimeout(() => {
      const held = this.#windows.get(key)?.held;
      this.#windows.delete(key);
      if (held === undefined) return;
      this.#open(key);
      void this.publish(held.to, held.frame);
    }, this.windowMs);
    timer.unref();
    this.#windows.set(key, { timer });
  }
}
