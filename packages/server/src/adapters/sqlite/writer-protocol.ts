/** What the server's thread and the writer thread (writer-worker.ts) post to each other. */
import type { Message } from '@parley/protocol';
import type { AppendResult, LogEntry, NewMessage, StoreErrorKind } from '../../ports/store.js';
import { newLogEntry, storedMessage } from '../sql-rows.js';
import { longTextBytes } from './long-texts.js';
import type { WriterMethod } from './routes.js';
import type { LogNews } from './writes.js';

export interface WriterRequest {
  id: number;
  method: WriterMethod | 'close';
  args: unknown[];
}

/** The writer thread's start-up message. */
export type WriterReply = { ready: true } | { failed: string };

/** One call's outcome; the writer thread posts them in arrays, as the calls come (threads.ts). */
export type CallReply =
  { id: number; value: unknown } | { id: number; error: { kind?: StoreErrorKind; message: string } };

/**
 * What the writer thread posts after the start-up message: replies, and the update log's news
 * since the last such message (LogNews), to be taken in before any of the replies resolves.
 */
export interface RepliesMessage extends LogNews {
  replies: CallReply[];
}

// appendMessages, the hot call, crosses as flat arrays: structured-cloning one array of strings
// costs about half as much as cloning the same values as objects (18.6 against 10.9 µs for a
// batch's 10,000-character message), and a created message's own fields need not come back at
// all, since the caller holds them (nor its text cross twice). A long text, which the writer only
// appends to the long-text file, crosses as its UTF-8 bytes in one buffer that is transferred,
// not copied: cloning 10,000-character texts took 9% of the server thread's time and 12% of the
// writer's at 2,500 such DMs/s, and the writer then encoded each one again (finding 30).

const FIELDS = 8;

export interface WireBatch {
  /** Eight strings per message (the last two: search tokens, mention names joined by spaces); a long text's is '' (its bytes are in `texts`). */
  fields: string[];
  /** Per message, the UTF-8 length of its text if that is in `texts`, else 0. */
  textBytes?: number[];
  /** The long texts' bytes, one after another. */
  texts?: ArrayBuffer;
  /** Replies only: per reply, its message's index in the batch, and the id and sender it answers. */
  replies?: string[];
}

/** The batch, and what to transfer with it. */
export function encodeBatch(batch: readonly NewMessage[]): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const fields: string[] = [];
  const textBytes: number[] = [];
  let replies: string[] | undefined;
  let total = 0;
  batch.forEach((m, i) => {
    const bytes = longTextBytes(m.text);
    textBytes.push(bytes);
    total += bytes;
    fields.push(
      m.id,
      m.channelId,
      m.senderId,
      bytes > 0 ? '' : m.text,
      m.createdAt,
      m.clientMsgId,
      m.searchTokens ?? '',
      m.mentionNames?.join(' ') ?? '',
    );
    if (m.replyTo !== undefined) (replies ??= []).push(String(i), m.replyTo.id, m.replyTo.senderId);
  });
  if (total === 0) return { wire: replies === undefined ? { fields } : { fields, replies }, transfer: [] };
  // Its own ArrayBuffer (not a slice of Node's shared pool), so that it can be transferred.
  const texts = Buffer.allocUnsafeSlow(total);
  let at = 0;
  batch.forEach((m, i) => {
    if (textBytes[i]! > 0) at += texts.write(m.text, at, 'utf8');
  });
  const wire: WireBatch = { fields, textBytes, texts: texts.buffer };
  if (replies !== undefined) wire.replies = replies;
  return { wire, transfer: [texts.buffer] };
}

/** The batch, with each long text's bytes beside it (its `text` is then ''). */
export function decodeBatch(wire: WireBatch): { batch: NewMessage[]; encodedTexts: (Uint8Array | undefined)[] } {
  const { fields, textBytes, texts } = wire;
  const batch: NewMessage[] = [];
  const encodedTexts: (Uint8Array | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < fields.length; i += FIELDS) {
    const message: NewMessage = {
      id: fields[i]!,
      channelId: fields[i + 1]!,
      senderId: fields[i + 2]!,
      text: fields[i + 3]!,
      createdAt: fields[i + 4]!,
      clientMsgId: fields[i + 5]!,
    };
    if (fields[i + 6] !== '') message.searchTokens = fields[i + 6]!;
    if (fields[i + 7] !== '') message.mentionNames = fields[i + 7]!.split(' ');
    batch.push(message);
    const bytes = textBytes?.[i / FIELDS] ?? 0;
    encodedTexts.push(bytes > 0 ? new Uint8Array(texts!, at, bytes) : undefined);
    at += bytes;
  }
  const replies = wire.replies ?? [];
  for (let i = 0; i < replies.length; i += 3) {
    batch[Number(replies[i])]!.replyTo = { id: replies[i + 1]!, senderId: replies[i + 2]! };
  }
  return { batch, encodedTexts };
}

/**
 * Per message: 'c', the member count, (userId, seq) per member, then the mentioned user ids (0
 * for none); 'd' and the original; 'b' (blocked); or 'n' (not a member).
 */
export type WireResults = (string | number | string[] | Message)[];

export function encodeResults(results: readonly AppendResult[]): WireResults {
  const flat: WireResults = [];
  for (const result of results) {
    if (result.status === 'created') {
      flat.push('c', result.entries.length);
      for (const entry of result.entries) flat.push(entry.userId, entry.seq);
      flat.push(result.message.mentions ?? 0);
    } else if (result.status === 'duplicate') {
      flat.push('d', result.message);
    } else if (result.status === 'blocked') {
      flat.push('b');
    } else {
      flat.push('n');
    }
  }
  return flat;
}

/** Rebuilds the results exactly as the store returned them, from the batch that was sent. */
export function decodeResults(flat: WireResults, batch: readonly NewMessage[]): AppendResult[] {
  const results: AppendResult[] = [];
  let i = 0;
  for (const input of batch) {
    const status = flat[i++];
    if (status === 'c') {
      const count = flat[i++] as number;
      const created = { type: 'message.created', channelId: input.channelId, messageId: input.id } as const;
      const entries: LogEntry[] = [];
      for (let k = 0; k < count; k++, i += 2) {
        entries.push(newLogEntry(flat[i] as string, flat[i + 1] as number, created, input.createdAt));
      }
      const mentions = flat[i++];
      results.push({
        status: 'created',
        message: storedMessage(input, Array.isArray(mentions) ? mentions : []),
        entries,
      });
    } else if (status === 'd') {
      results.push({ status: 'duplicate', message: flat[i++] as Message });
    } else if (status === 'b') {
      results.push({ status: 'blocked' });
    } else {
      results.push({ status: 'not_member' });
    }
  }
  return results;
}
