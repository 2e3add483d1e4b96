/**
 * Loaded into a target process (`--expose-gc --import` this file; `heapProbe` in
 * target.ts): on SIGUSR2 it runs a full collection and writes the heap's used bytes to the file
 * named by BENCH_HEAP_PROBE_FILE. What the connections scenario reads as the heap a connection
 * holds: RSS moves with when the collector last ran and how far V8 lets the heap grow before the
 * next, which differs between processes whose heaps differ in size, and a collection forced from
 * inside the process does not give pages back to the system at once.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** What the probe writes: the heap after the collection, and the signal's sequence number. */
export interface HeapProbeReading {
  heapUsedBytes: number;
  /** Counts the probes this process has answered, so a reader knows the file is new. */
  count: number;
}

const file = process.env.BENCH_HEAP_PROBE_FILE;
const gc = (globalThis as { gc?: () => void }).gc;
// Worker threads load it too (they inherit the flags); only the main thread takes signals.
if (file !== undefined && gc !== undefined && isMainThread) {
  let count = 0;
  process.on('SIGUSR2', () => {
    gc();
    const reading: HeapProbeReading = { heapUsedBytes: process.memoryUsage().heapUsed, count: ++count };
    writeFileSync(file, JSON.stringify(reading));
  });
}
