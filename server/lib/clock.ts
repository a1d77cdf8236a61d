// Where the server reads the time. Every part takes a clock instead of reading the system's, so a
// test moves the server's time by moving its clock (as the emulator's store takes `now`), and
// database conditions compare with the same time the code does.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** `ms` after the clock's now. */
export const later = (clock: Clock, ms: number) => new Date(clock.now().getTime() + ms);

/** The calendar month (UTC, `YYYY-MM`) Smartcar's allowance and our budget count in. */
export const monthOf = (now: Date) => now.toISOString().slice(0, 7);

export const startOfNextMonth = (now: Date) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
