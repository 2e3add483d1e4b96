/**
 * Long message texts, kept out of SQLite in one append-only file beside the database
 * (`<database>-texts`); the message row holds where its text starts and how many bytes it has.
 *
 * Why: SQLite writes a text of a few kilobytes twice, as overflow pages into the WAL (synced
 * with the commit) and again into the database file at the checkpoint, with a page's worth of
 * slack on each. History is kept forever and never rewritten, so the text can instead be written
 * once, in sequence, and synced with the batch. At 3,000 10,000-character DMs/s, copying the texts at
 * the checkpoint alone had taken 0.15 cores (docs/benchmarks.md, finding 22).
 *
 * Crash safety: a batch's texts are written before the transaction whose rows point at them, and
 * the file is fdatasync'ed alongside the WAL (the two syncs run at once: in series they made a
 * 10,000-character commit wait twice, docs/benchmarks.md finding 28). The batch is acked only once
 * both are done. So a crash of the machine can leave committed rows whose texts did not reach the
 * disk, but only rows that were never acked: each row keeps its text's CRC-32, and start-up removes
 * such rows (writer.ts, #removeMessagesWithLostTexts). A crash (or a rolled-back
 * transaction, or a duplicate send) can also leave bytes that no row points at; they are never
 * read, and the next append goes after them.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/** Texts of at least this many UTF-8 bytes go to the file; shorter ones stay in their row. */
export const LONG_TEXT_BYTES = 1024;

/** A text's UTF-8 length if it goes to the file (LONG_TEXT_BYTES or more), else 0. */
export function longTextBytes(text: string): number {
  // A string's UTF-8 form is at most 3 bytes per UTF-16 unit: shorter ones need no counting.
  if (text.length * 3 < LONG_TEXT_BYTES) return 0;
  const bytes = Buffer.byteLength(text);
  return bytes >= LONG_TEXT_BYTES ? bytes : 0;
}

/** Where a long text is: its offset in the file and its length in UTF-8 bytes. */
export interface TextPlace {
  at: number;
  bytes: number;
}

/** A text just appended: where it is, and its bytes' CRC-32 to check them by after a crash. */
export interface AppendedText extends TextPlace {
  crc: number;
}

export class LongTexts {
  readonly #fd: number;
  readonly #path: string;
  #end: number;
  #readBuffer = Buffer.alloc(0);

  /** The file beside a database file: created by the writer, opened read-only by readers. */
  constructor(databasePath: string, writable: boolean) {
    this.#path = `${databasePath}-texts`;
    this.#fd = openSync(this.#path, writable ? 'a+' : 'r');
    this.#end = writable ? fstatSync(this.#fd).size : 0;
  }

  /**
   * Appends the given texts' bytes in one write (undefined: a short text, which stays in its
   * row); the place of each, in order. Not durable until sync() resolves.
   */
  append(texts: readonly (Uint8Array | undefined)[]): (AppendedText | undefined)[] {
    const places: (AppendedText | undefined)[] = [];
    const buffers: Uint8Array[] = [];
    let end = this.#end;
    for (const bytes of texts) {
      if (bytes === undefined) {
        places.push(undefined);
        continue;
      }
      places.push({ at: end, bytes: bytes.length, crc: crc32(bytes) });
      buffers.push(bytes);
      end += bytes.length;
    }
    if (buffers.length === 0) return places;
    // Opened for appending: the bytes land at the file's end, which #end tracks. After a failed
    // or short write the file says where its end now is.
    const expected = end - this.#end;
    let written = -1;
    try {
      written = writevSync(this.#fd, buffers);
    } finally {
      this.#end = written === expected ? end : fstatSync(this.#fd).size;
    }
    if (written !== expected) throw new Error(`short write to the long-text file (${written} of ${expected} bytes)`);
    return places;
  }

  /**
   * Overwrites a text's bytes with zeros, on disk before it returns (a deleted or edited
   * message's old text must not survive in a copy of the file). The appending descriptor cannot
   * write in place (O_APPEND), so this opens the file once more. Call only after the row that
   * pointed at the place has stopped pointing there (committed).
   */
  erase(place: TextPlace): void {
    const fd = openSync(this.#path, 'r+');
    try {
      const zeros = Buffer.alloc(place.bytes);
      let done = 0;
      while (done < place.bytes) done += writeSync(fd, zeros, done, place.bytes - done, place.at + done);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Resolves once everything appended so far is on stable storage. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.#fd, (error) => (error ? reject(error) : resolve())));
  }

  read(place: TextPlace): string {
    if (!this.#readIntoBuffer(place)) throw new Error(`the long-text file ends before ${place.at + place.bytes}`);
    return this.#readBuffer.toString('utf8', 0, place.bytes);
  }

  /** Whether the file holds the text appended with this CRC-32 (false after a crash lost it). */
  holds(place: AppendedText): boolean {
    return this.#readIntoBuffer(place) && crc32(this.#readBuffer.subarray(0, place.bytes)) === place.crc;
  }

  /** Reads the place's bytes into the read buffer; false if the file ends first. */
  #readIntoBuffer(place: TextPlace): boolean {
    if (this.#readBuffer.length < place.bytes) this.#readBuffer = Buffer.allocUnsafe(Math.max(place.bytes, 64 * 1024));
    let done = 0;
    while (done < place.bytes) {
      const n = readSync(this.#fd, this.#readBuffer, done, place.bytes - done, place.at + done);
      if (n === 0) return false;
      done += n;
    }
    return true;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** How often a message batch records the mark (TextsOnDiskMark.due). */
const MARK_INTERVAL_MS = 1000;

/**
 * How far, in message ids, the long texts are known to be on disk: the mark that message batches
 * record (store_meta.long_texts_synced_through) so that start-up reads back only the texts after
 * it. Every long text of a message up to the mark is on disk.
 */
export class TextsOnDiskMark {
  #through: bigint;
  #recorded: bigint;
  #recordedAt = -Infinity;
  #syncsUnderWay = 0;

  /** `recorded`: the mark as the database has it (start-up has checked every text after it). */
  constructor(
    recorded: bigint,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#through = this.#recorded = recorded;
  }

  /** Syncs the file for a batch whose newest message is `newest`: then its texts and all before are on disk. */
  async sync(longTexts: LongTexts, newest: bigint): Promise<void> {
    this.#syncsUnderWay++;
    try {
      await longTexts.sync();
      this.#advance(newest);
    } finally {
      this.#syncsUnderWay--;
    }
  }

  /** A batch with no long text: with no sync under way, every long text so far is on disk. */
  withoutTexts(newest: bigint): void {
    if (this.#syncsUnderWay === 0) this.#advance(newest);
  }

  /**
   * The mark for this batch's transaction to record, if it moved and a second has passed since
   * the last: start-up then reads back about a second's texts, and few batches write the page.
   */
  due(): bigint | undefined {
    if (this.#through <= this.#recorded || this.now() - this.#recordedAt < MARK_INTERVAL_MS) return undefined;
    return this.#through;
  }

  /** The transaction that recorded `mark` committed. */
  recorded(mark: bigint): void {
    this.#recorded = mark;
    this.#recordedAt = this.now();
  }

  #advance(messageId: bigint): void {
    if (messageId > this.#through) this.#through = messageId;
  }
}
