/**
 * The one clock every bench process shares: CLOCK_MONOTONIC through process.hrtime, in
 * microseconds. It is system-wide on Linux, so a timestamp taken in one generator process
 * can be compared with a receipt time in another.
 */
export function nowUs(): number {
  const t = process.hrtime();
  return t[0] * 1_000_000 + Math.floor(t[1] / 1000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the shared clock reaches `us`. */
export async function sleepUntilUs(us: number): Promise<void> {
  const d = us - nowUs();
  if (d > 0) await sleep(Math.ceil(d / 1000));
}
