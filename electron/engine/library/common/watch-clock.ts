// Time for the watcher's parts (watch-*.ts), passed in so that a unit test drives them with a fake
// clock (test/support/fake-clock.ts) instead of sleeping through write-stable waits, move windows
// and root checks. `systemClock` is the real one: Date.now and the global timers.

/** What a clock's setTimeout/setInterval returned; only ever handed back to the same clock. */
export type TimerHandle = unknown;

export interface WatchClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

type GlobalTimer = ReturnType<typeof setTimeout>;

export const systemClock: WatchClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as GlobalTimer),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as GlobalTimer),
};
