/**
 * The message pipeline: validate, mint a Snowflake id, group-commit the message together with
 * every member's log entry, and only then acknowledge and publish.
 *
 * Group commit: sends that arrive while a commit is running (or in the same event-loop turn)
 * join the next batch, so one durable commit covers many messages under load and a single
 * message waits for nothing but its own commit when the server is idle.
 */
import {
  limits,
  takeCodePoints,
  textWithinLimit,
  type HistoryPage,
  type Message,
  type ReplyRef,
  type SyncPage,
} from '@parley/protocol';
import type { AppendResult, ChannelStore, HistoryQuery, LogStore, MessageStore, NewMessage } from '../ports/store.js';
import { isoNow, type Clock } from './clock.js';
import { ChatError, fail } from './errors.js';
import type { EventRouter, Logger } from './events.js';
import type { IdGenerator } from './ids.js';
import { mentionCandidates } from './mentions.js';
import { TokenBuckets } from './rate-limit.js';
import { indexTokens } from './search-text.js';

export interface MessagingOptions {
  sendRatePerSecond: number;
  sendBurst: number;
  commitBatchMax: number;
  /** Least time between the starts of two group commits. */
  commitIntervalMs: number;
  /** Group commits that may be under way at once (settled in order all the same). */
  commitsInFlight: number;
}

export interface SendInput {
  channelId: string;
  text: string;
  clientMsgId: string;
  /** Answer this message: it must be of the same channel. */
  replyToId?: string | undefined;
}

/** The rules a message text keeps, sent or edited: a ChatError, or undefined when it is fine. */
export function textProblem(text: string): ChatError | undefined {
  if (!text.isWellFormed()) return new ChatError('invalid_request', 'text contains unpaired surrogates');
  // PostgreSQL's text type cannot hold U+0000; refusing it everywhere keeps one contract on every store.
  if (text.includes('\u0000')) return new ChatError('invalid_request', 'text must not contain U+0000');
  if (!textWithinLimit(text)) {
    return new ChatError('message_too_long', `text is longer than ${limits.maxTextCodePoints} characters`);
  }
  return undefined;
}

/** Where commit figures go (the /metrics endpoint); optional so tests can leave it out. */
export interface CommitMetrics {
  recordCommit(messages: number, ms: number): void;
  fanoutLatency: { observe(ms: number): void };
}

/** Told about every newly stored message (push notifications hook in here). */
export interface CommitListener {
  messageCommitted(message: Message, recipientIds: readonly string[]): Promise<void>;
}

interface Pending {
  message: NewMessage;
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
}

export class MessageService {
  #queue: Pending[] = [];
  #flushScheduled = false;
  #lastStartAt = -Infinity;
  /** Batches taken from the queue and not yet settled. */
  #inFlight = 0;
  /** The last batch's settling: the next one settles after it. Never rejects. */
  #settled: Promise<void> = Promise.resolve();
  readonly #buckets: TokenBuckets;

  constructor(
    private readonly store: MessageStore & LogStore & Pick<ChannelStore, 'getRole'>,
    private readonly events: EventRouter,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly options: MessagingOptions,
    private readonly log: Logger,
    private readonly metrics?: CommitMetrics,
    private readonly listener?: CommitListener,
  ) {
    this.#buckets = new TokenBuckets(options.sendRatePerSecond, options.sendBurst, clock);
  }

  /**
   * Resolves with the stored message once it is durably committed (or with the original for a
   * resend of the same clientMsgId). Rejects with a ChatError and stores nothing otherwise.
   */
  send(senderId: string, deviceId: string, input: SendInput): Promise<Message> {
    const problem = textProblem(input.text);
    if (problem !== undefined) return Promise.reject(problem);
    if (!this.#buckets.take(deviceId)) {
      return Promise.reject(new ChatError('rate_limited', 'too many messages, slow down'));
    }
    if (input.replyToId === undefined) return this.#enqueue(senderId, input, undefined);
    const replyToId = input.replyToId;
    return this.#replyRef(senderId, input.channelId, replyToId).then((replyTo) =>
      this.#enqueue(senderId, input, replyTo),
    );
  }

  #enqueue(senderId: string, input: SendInput, replyTo: ReplyRef | undefined): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const message: NewMessage = {
        id: this.ids.next(),
        channelId: input.channelId,
        senderId,
        text: input.text,
        createdAt: isoNow(this.clock),
        clientMsgId: input.clientMsgId,
        searchTokens: indexTokens(input.text),
        mentionNames: mentionCandidates(input.text),
      };
      if (replyTo !== undefined) message.replyTo = replyTo;
      this.#queue.push({ message, resolve, reject });
      this.#scheduleFlush();
    });
  }

  /**
   * What a reply shows of the message it answers, which must be of the same channel
   * (`invalid_request` otherwise; `not_found` for a channel the sender is not in). A deleted
   * message may be answered: the reply then has no preview.
   */
  async #replyRef(senderId: string, channelId: string, replyToId: string): Promise<ReplyRef> {
    if ((await this.store.getRole(channelId, senderId)) === undefined) fail('not_found', 'no such channel');
    const original = await this.store.getMessage(channelId, replyToId);
    if (original === undefined) fail('invalid_request', 'replyToId is not a message of this channel');
    const ref: ReplyRef = { id: original.id, senderId: original.senderId };
    if (original.deletedAt === undefined) ref.preview = takeCodePoints(original.text, limits.replyPreviewCodePoints);
    return ref;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#queue.length === 0) return;
    if (this.#inFlight >= this.options.commitsInFlight) return;
    this.#flushScheduled = true;
    const run = () => {
      this.#flushScheduled = false;
      this.#commitNext();
    };
    // Under load, a commit starts at most every commitIntervalMs: each commit's fsync then covers
    // more messages (a commit costs 200-300 µs of CPU beyond its messages' own). An idle server
    // commits at once, so a lone message waits for nothing.
    const wait = this.#lastStartAt + this.options.commitIntervalMs - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  /**
   * Commits the queue's head as one batch. Up to commitsInFlight batches commit at once (the
   * store runs the next one's statements while the previous one waits for its fsync), and they
   * settle strictly in the order they were taken, so each user's events go out in seq order.
   */
  #commitNext(): void {
    const batch = this.#queue.splice(0, this.options.commitBatchMax);
    if (batch.length === 0) return;
    this.#inFlight++;
    const started = performance.now();
    this.#lastStartAt = started;
    const committed = this.store.appendMessages(batch.map((p) => p.message)).then(
      (results) => {
        this.metrics?.recordCommit(batch.length, performance.now() - started);
        return results;
      },
      (error: unknown) => {
        this.log.error({ err: error, batch: batch.length }, 'message commit failed');
        return new ChatError('unavailable', 'the message could not be stored, try again', { cause: error });
      },
    );
    this.#settled = this.#settled.then(async () => {
      const outcome = await committed;
      try {
        if (outcome instanceof ChatError) for (const pending of batch) pending.reject(outcome);
        else this.#settle(batch, outcome);
      } catch (error) {
        this.log.error({ err: error }, 'settling a committed batch failed');
      } finally {
        this.#inFlight--;
        this.#scheduleFlush();
      }
    });
    this.#scheduleFlush();
  }

  /** Publishes, acks and notifies one committed batch. */
  #settle(batch: Pending[], results: AppendResult[]): void {
    const committedAt = performance.now();
    const created = results.filter((result) => result.status === 'created');
    // Published before any ack goes out (acks resolve promises: they run after this turn's code).
    void this.events.publishMessages(created);
    results.forEach((result, i) => {
      const pending = batch[i]!;
      switch (result.status) {
        case 'created':
          if (this.listener !== undefined) {
            void this.listener.messageCommitted(
              result.message,
              result.entries.map((e) => e.userId),
            );
          }
          pending.resolve(result.message);
          break;
        case 'duplicate':
          pending.resolve(result.message);
          break;
        // The answer a non-member gets; a blocked DM looks like no channel at all (blocks.ts).
        case 'not_member':
        case 'blocked':
          pending.reject(new ChatError('not_found', 'no such channel'));
          break;
      }
    });
    this.metrics?.fanoutLatency.observe(performance.now() - committedAt);
  }

  /** Waits for every queued message to be committed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight > 0 || this.#queue.length > 0 || this.#flushScheduled) {
      await (this.#inFlight > 0 ? this.#settled : new Promise((resolve) => setImmediate(resolve)));
    }
  }

  /**
   * History of a channel the user belongs to (checked by the caller), ascending, within the
   * page's byte budget. One message more than asked tells whether more follow (older for the
   * latest page and `before`, newer for `after`); for `around`, only a cut by bytes does.
   */
  async history(channelId: string, query: HistoryQuery, viewerId: string): Promise<HistoryPage> {
    const around = 'around' in query;
    const read = await this.store.listMessages(
      channelId,
      around ? query : { ...query, limit: query.limit + 1 },
      limits.pageTextBytes,
    );
    const overCount = !around && read.length > query.limit;
    // The extra message lies on the far side of the anchor: the oldest, or (for `after`) the newest.
    const messages = overCount ? ('after' in query ? read.slice(0, -1) : read.slice(1)) : read;
    return {
      messages: await this.events.views.forViewer(messages, viewerId),
      hasMore: overCount || textBytes(messages) >= limits.pageTextBytes,
    };
  }

  logBounds(userId: string): Promise<{ head: number; floor: number }> {
    return this.store.logBounds(userId);
  }

  /** The user's update log after `since`, as served by GET /v1/sync and replayed on hello. */
  async sync(userId: string, since: number, limit: number): Promise<SyncPage> {
    const { head, floor } = await this.logBounds(userId);
    if (since < floor || since > head) {
      fail('resync_required', `seq ${since} is outside the kept log (${floor}..${head}); reload and sync from now`);
    }
    const entries = await this.store.readLog(userId, since, limit + 1, limits.pageTextBytes);
    const page = entries.length > limit ? entries.slice(0, limit) : entries;
    const events = await this.events.hydrate(page);
    const seq = events.at(-1)?.seq ?? since;
    // A page cut by its byte budget is shorter than asked: the log's head says more follow.
    return { events, seq, hasMore: entries.length > limit || seq < head };
  }
}

/** The UTF-8 size of the messages' texts. */
function textBytes(messages: readonly Message[]): number {
  let bytes = 0;
  for (const message of messages) bytes += Buffer.byteLength(message.text);
  return bytes;
}
