// The server's clock in tests: the real time until a test holds it, then wherever the test puts
// it. Tests move the server's time through this, never by faking the global Date.
import type { Clock } from '../../server/lib/clock';

export class TestClock implements Clock {
  private held: number | undefined;

  now(): Date {
    return new Date(this.held ?? Date.now());
  }

  /** Stops the clock at `at` (the real time by default); answers where it stands. */
  hold(at = Date.now()): number {
    this.held = at;
    return at;
  }

  /** Moves the clock `ms` ahead of where it stands now, and holds it there. */
  advance(ms: number): number {
    return this.hold(this.now().getTime() + ms);
  }

  /** Back to the real time. */
  release(): void {
    this.held = undefined;
  }
}
