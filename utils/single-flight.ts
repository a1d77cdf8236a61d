// Joins callers that ask for the same work while it runs: one promise per key, dropped once it
// settles, so the next caller starts the work afresh. Used by the background (one connect flow,
// one watch) and the server (one job per vehicle, one refresh per connection, one maintenance run).
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    let pending = this.running.get(key);
    if (!pending) {
      pending = work().finally(() => this.running.delete(key));
      this.running.set(key, pending);
    }
    return pending;
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }
}
