import {
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type AriaRole,
  type ReactNode,
  type Ref,
} from 'react';
import { HeightCache, computeLayout, visibleRange } from './layout';

export interface VirtualListHandle {
  /** Scrolls so that the row with `key` is centred (or at the bottom edge for `end`). */
  scrollToKey(key: string, align?: 'center' | 'end'): boolean;
  scrollToBottom(): void;
  isAtBottom(): boolean;
}

export interface VirtualListProps<T> {
  items: readonly T[];
  getKey(item: T): string;
  estimateHeight(item: T, width: number): number;
  renderItem(item: T, index: number): ReactNode;
  /** ARIA role of each row's wrapper ("listitem" for messages, "separator" for day dividers). */
  rowRole?(item: T): AriaRole | undefined;
  /** Accessible name of a row's wrapper (separators need one). */
  rowLabel?(item: T): string | undefined;
  /** Props for the element holding the rows (role="list", aria-label, ...). */
  listProps?: React.HTMLAttributes<HTMLDivElement>;
  className?: string;
  /** Called when the view comes within `edgeThreshold` px of the top or bottom. */
  onNearTop?(): void;
  onNearBottom?(): void;
  /** Whether the viewport is (within a few px) at the bottom; fired on changes. */
  onAtBottomChange?(atBottom: boolean): void;
  /** Called with the last row fully or mostly on screen, after scrolling settles into view. */
  onLastVisible?(item: T): void;
  edgeThreshold?: number;
  overscan?: number;
  /** Stay pinned to the bottom when rows are added while the view is at the bottom. Default true. */
  followOutput?: boolean;
  /** Where to start: the bottom (chat) unless a key is given. */
  initialKey?: string;
  ref?: Ref<VirtualListHandle>;
}

const bottomSlack = 48;

/**
 * A windowed list for chat history: only the rows near the viewport are in the DOM. Heights are
 * measured after render and cached by key; unmeasured rows use an estimate. When rows above the
 * viewport change height or are prepended (older history), the first visible row keeps its
 * position on screen (manual scroll anchoring), and a view at the bottom stays at the bottom.
 */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const {
    items,
    getKey,
    estimateHeight,
    renderItem,
    rowRole,
    rowLabel,
    listProps,
    className,
    overscan = 600,
    followOutput = true,
  } = props;
  const scrollerRef = useRef<HTMLDivElement>(null);
  const cache = useRef(new HeightCache()).current;
  const [version, setVersion] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState({ width: 0, height: 0 });
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const pendingJump = useRef<{ key: string; align: 'center' | 'end' } | null>(
    props.initialKey ? { key: props.initialKey, align: 'center' } : null,
  );
  const rowEls = useRef(new Map<string, HTMLElement>());
  const callbacks = useRef(props);
  callbacks.current = props;

  const keys = useMemo(() => items.map(getKey), [items, getKey]);
  const layout = useMemo(
    () => computeLayout(keys, (i) => cache.get(keys[i]!) ?? estimateHeight(items[i]!, viewport.width)),
    // `version` changes whenever the cache does.
    [keys, items, version, viewport.width],
  );
  const layoutRef = useRef(layout);
  layoutRef.current = layout;

  const { start, end } = visibleRange(layout.offsets, scrollTop, viewport.height || 800, overscan);

  const captureAnchor = useCallback(() => {
    const el = scrollerRef.current;
    const { offsets, total } = layoutRef.current;
    if (!el) return;
    const top = el.scrollTop - Math.max(0, el.clientHeight - total);
    const n = offsets.length - 1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1]! > top) hi = mid;
      else lo = mid + 1;
    }
    const key = keysRef.current[lo];
    anchor.current = key === undefined ? null : { key, delta: offsets[lo]! - top };
  }, []);
  const keysRef = useRef(keys);
  keysRef.current = keys;

  const updateAtBottom = useCallback(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const now = el.scrollHeight - el.scrollTop - el.clientHeight <= bottomSlack;
    if (now !== atBottom.current) {
      atBottom.current = now;
      callbacks.current.onAtBottomChange?.(now);
    }
  }, []);

  const checkEdges = useCallback(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const threshold = callbacks.current.edgeThreshold ?? 800;
    if (el.scrollTop < threshold) callbacks.current.onNearTop?.();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < threshold) callbacks.current.onNearBottom?.();
  }, []);

  const reportLastVisible = useCallback(() => {
    const el = scrollerRef.current;
    const report = callbacks.current.onLastVisible;
    if (!el || !report) return;
    const bottom = el.getBoundingClientRect().bottom;
    let best: { index: number } | null = null;
    for (const [key, row] of rowEls.current) {
      const rect = row.getBoundingClientRect();
      if (rect.top < bottom - Math.min(24, rect.height / 2)) {
        const index = layoutRef.current.indexOf.get(key);
        if (index !== undefined && (!best || index > best.index)) best = { index };
      }
    }
    const item = best ? callbacks.current.items[best.index] : undefined;
    if (item !== undefined) report(item);
  }, []);

  const onScroll = useCallback(() => {
    const el = scrollerRef.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    captureAnchor();
    updateAtBottom();
    checkEdges();
    reportLastVisible();
  }, [captureAnchor, updateAtBottom, checkEdges, reportLastVisible]);

  // Viewport size: re-measure everything when the width changes (text rewraps).
  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setViewport((old) => {
        const next = { width: el.clientWidth, height: el.clientHeight };
        if (old.width && Math.abs(old.width - next.width) > 1) {
          cache.clear();
          setVersion((v) => v + 1);
        }
        return old.width === next.width && old.height === next.height ? old : next;
      });
    });
    ro.observe(el);
    setViewport({ width: el.clientWidth, height: el.clientHeight });
    return () => ro.disconnect();
  }, [cache]);

  // Rows that change size after their first render (fonts, wrapping) are re-measured.
  const rowObserver = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            let changed = false;
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset.key;
              if (key === undefined) continue;
              const h = (entry.target as HTMLElement).offsetHeight;
              if (h > 0 && cache.set(key, h)) changed = true;
            }
            if (changed) setVersion((v) => v + 1);
          }),
    [cache],
  );
  useEffect(() => () => rowObserver?.disconnect(), [rowObserver]);

  const setRowRef = useCallback(
    (key: string) => (el: HTMLElement | null) => {
      const old = rowEls.current.get(key);
      if (old && old !== el) rowObserver?.unobserve(old);
      if (el) {
        rowEls.current.set(key, el);
        rowObserver?.observe(el);
      } else {
        rowEls.current.delete(key);
        rowRefs.current.delete(key);
      }
    },
    [rowObserver],
  );
  const rowRefs = useRef(new Map<string, (el: HTMLElement | null) => void>());
  const refFor = (key: string) => {
    let fn = rowRefs.current.get(key);
    if (!fn) {
      fn = setRowRef(key);
      rowRefs.current.set(key, fn);
    }
    return fn;
  };

  // After every render: measure new rows, then put the scroll position where it belongs.
  useLayoutEffect(() => {
    const el = scrollerRef.current;
    if (!el) return;
    let changed = false;
    for (const [key, row] of rowEls.current) {
      if (cache.get(key) === undefined) {
        const h = row.offsetHeight;
        if (h > 0 && cache.set(key, h)) changed = true;
      }
    }
    if (changed) {
      setVersion((v) => v + 1);
      return;
    }
    const jump = pendingJump.current;
    if (jump) {
      const index = layout.indexOf.get(jump.key);
      if (index !== undefined) {
        const top = layout.offsets[index]!;
        const h = layout.offsets[index + 1]! - top;
        const gap = Math.max(0, el.clientHeight - layout.total);
        const target = jump.align === 'end' ? top + h - el.clientHeight : top - (el.clientHeight - h) / 2;
        el.scrollTop = Math.max(0, target + gap);
        if (Math.abs(el.scrollTop - scrollTop) > 1) setScrollTop(el.scrollTop);
        // Keep going until the target row is measured and in place.
        if (cache.get(jump.key) !== undefined && rowEls.current.has(jump.key)) pendingJump.current = null;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= bottomSlack;
        captureAnchor();
        props.onAtBottomChange?.(atBottom.current);
        return;
      }
    }
    if (atBottom.current && followOutput) {
      const bottom = el.scrollHeight - el.clientHeight;
      if (Math.abs(el.scrollTop - bottom) > 1) el.scrollTop = bottom;
      if (Math.abs(el.scrollTop - scrollTop) > 1) setScrollTop(el.scrollTop);
      captureAnchor();
    } else if (anchor.current) {
      const index = layout.indexOf.get(anchor.current.key);
      if (index !== undefined) {
        const gap = Math.max(0, el.clientHeight - layout.total);
        const want = layout.offsets[index]! - anchor.current.delta + gap;
        if (Math.abs(el.scrollTop - want) > 1) {
          el.scrollTop = want;
          setScrollTop(el.scrollTop);
        }
      }
      captureAnchor();
    }
    checkEdges();
  });

  useEffect(() => {
    reportLastVisible();
  });

  useImperativeHandle(
    props.ref,
    () => ({
      scrollToKey(key, align = 'center') {
        if (!layoutRef.current.indexOf.has(key)) return false;
        pendingJump.current = { key, align };
        setVersion((v) => v + 1);
        return true;
      },
      scrollToBottom() {
        const el = scrollerRef.current;
        if (!el) return;
        atBottom.current = true;
        el.scrollTop = el.scrollHeight;
        setScrollTop(el.scrollTop);
        setVersion((v) => v + 1);
      },
      isAtBottom: () => atBottom.current,
    }),
    [],
  );

  const rows: ReactNode[] = [];
  for (let i = start; i <= end; i++) {
    const item = items[i]!;
    const key = keys[i]!;
    rows.push(
      <div
        key={key}
        data-key={key}
        ref={refFor(key)}
        role={rowRole?.(item)}
        aria-label={rowLabel?.(item)}
        className="vrow"
      >
        {renderItem(item, i)}
      </div>,
    );
  }
  const padTop = end >= start ? layout.offsets[start]! : 0;
  const padBottom = end >= start ? layout.total - layout.offsets[end + 1]! : 0;

  return (
    <div
      ref={scrollerRef}
      className={className}
      onScroll={onScroll}
      style={{ overflowY: 'auto', overflowAnchor: 'none' }}
    >
      <div className="vlist-inner">
        <div {...listProps} style={{ paddingTop: padTop, paddingBottom: padBottom }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
