// A lease: a timestamp column saying until when one process does a row's job. Taken by a
// conditional UPDATE that succeeds only while no other lease runs, renewed while the job runs, so
// across processes one does each job, one that dies lets go within the lease, and no transaction
// or lock is held across a network call.
import { isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Clock } from './clock';

export class Lease {
  constructor(
    /** The row's `…_lease_until` column. */
    private readonly column: PgColumn,
    readonly ms: number,
    private readonly clock: Clock,
  ) {}

  /** The condition a row's lease must meet to be taken: none, or one that ran out. */
  free(now = this.clock.now()): SQL {
    return sql`(${isNull(this.column)} or ${lt(this.column, now)})`;
  }

  /** The value to store for a lease taken or renewed now. */
  until(now = this.clock.now()): Date {
    return new Date(now.getTime() + this.ms);
  }

  /**
   * Runs `work` while renewing the lease every third of its length; a failed renewal is told to
   * `onRenewalFailed` and the work goes on (the lease still runs for two thirds of its length).
   */
  async hold<T>(
    renew: (until: Date) => Promise<unknown>,
    work: () => Promise<T>,
    onRenewalFailed: (error: unknown) => void,
  ): Promise<T> {
    const timer = setInterval(() => {
      renew(this.until()).catch(onRenewalFailed);
    }, this.ms / 3).unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
}
