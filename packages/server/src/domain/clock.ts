/** Time as the domain sees it; tests may pass a fixed clock. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

let lastMs = Number.NaN;
let lastIso = '';
/** The clock's time as ISO-8601; formatted once per millisecond (it is on every message's path). */
export function isoNow(clock: Clock): string {
  const ms = clock.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
