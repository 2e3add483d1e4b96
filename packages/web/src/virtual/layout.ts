/**
 * Pure layout math for a virtualized list of rows with different heights: measured heights
 * are cached by key, unmeasured rows use an estimate, and prefix sums give every row's offset.
 */
export class HeightCache {
  readonly #heights = new Map<string, number>();

  get(key: string): number | undefined {
    return this.#heights.get(key);
  }

  /** Records a measured height; returns whether it changed. */
  set(key: string, height: number): boolean {
    const old = this.#heights.get(key);
    if (old !== undefined && Math.abs(old - height) < 0.5) return false;
    this.#heights.set(key, height);
    return true;
  }

  clear(): void {
    this.#heights.clear();
  }

  get size(): number {
    return this.#heights.size;
  }
}

export interface Layout {
  /** offsets[i] is the top of row i; offsets[n] is the total height. */
  readonly offsets: Float64Array;
  readonly total: number;
  /** Row index by key. */
  readonly indexOf: ReadonlyMap<string, number>;
}

export function computeLayout(keys: readonly string[], heightOf: (index: number) => number): Layout {
  const offsets = new Float64Array(keys.length + 1);
  const indexOf = new Map<string, number>();
  let y = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i] = y;
    indexOf.set(keys[i]!, i);
    y += heightOf(i);
  }
  offsets[keys.length] = y;
  return { offsets, total: y, indexOf };
}

/** The index of the row that contains `y` (clamped to the rows that exist). */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The rows to render for a viewport at `scrollTop` of `height`, with `overscan` pixels either side. */
export function visibleRange(
  offsets: Float64Array,
  scrollTop: number,
  height: number,
  overscan: number,
): { start: number; end: number } {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: -1 };
  const start = rowAt(offsets, Math.max(0, scrollTop - overscan));
  const end = rowAt(offsets, scrollTop + height + overscan);
  return { start, end: Math.min(n - 1, end) };
}
