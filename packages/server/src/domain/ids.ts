/**
 * Snowflake ids: 41 bits of milliseconds since 2026-01-01T00:00:00Z, 10 bits of node id and
 * 12 bits of sequence, as a decimal string. Ids sort by time; two nodes with distinct node ids
 * never mint the same id. Time going backwards (clock steps) is absorbed by waiting on the
 * last timestamp rather than minting an id that sorts before earlier ones.
 */
export const SNOWFLAKE_EPOCH_MS = Date.UTC(2026, 0, 1);
const NODE_BITS = 10;
const SEQUENCE_BITS = 12;
export const MAX_NODE_ID = (1 << NODE_BITS) - 1;
const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1;
const TIMESTAMP_SHIFT = 1n << BigInt(NODE_BITS + SEQUENCE_BITS);

export interface IdGenerator {
  next(): string;
  readonly nodeId: number;
}

export class SnowflakeGenerator implements IdGenerator {
  #lastMs = -1;
  #sequence = 0;

  constructor(
    readonly nodeId: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > MAX_NODE_ID) {
      throw new RangeError(`node id must be an integer in 0..${MAX_NODE_ID}, got ${nodeId}`);
    }
  }

  next(): string {
    let ms = this.now() - SNOWFLAKE_EPOCH_MS;
    if (ms < this.#lastMs) ms = this.#lastMs;
    if (ms === this.#lastMs) {
      this.#sequence++;
      if (this.#sequence > MAX_SEQUENCE) {
        // 4096 ids in one millisecond: borrow the next millisecond instead of spinning.
        ms = this.#lastMs + 1;
        this.#sequence = 0;
      }
    } else {
      this.#sequence = 0;
    }
    this.#lastMs = ms;
    return composeId(ms, this.nodeId, this.#sequence);
  }
}

function composeId(ms: number, nodeId: number, sequence: number): string {
  // 63 bits do not fit a double exactly, hence BigInt.
  return ((BigInt(ms) * TIMESTAMP_SHIFT) | BigInt((nodeId << SEQUENCE_BITS) | sequence)).toString();
}

export interface DecodedId {
  timestampMs: number;
  nodeId: number;
  sequence: number;
}

export function decodeId(id: string): DecodedId {
  const value = BigInt(id);
  const low = Number(value & (TIMESTAMP_SHIFT - 1n));
  return {
    timestampMs: Number(value >> BigInt(NODE_BITS + SEQUENCE_BITS)) + SNOWFLAKE_EPOCH_MS,
    nodeId: low >> SEQUENCE_BITS,
    sequence: low & MAX_SEQUENCE,
  };
}

/** The lowest id minted at or after `timeMs` (epoch ms): for "ids since then" range queries. */
export function firstIdAt(timeMs: number): string {
  return composeId(Math.max(0, timeMs - SNOWFLAKE_EPOCH_MS), 0, 0);
}
