// Ending access: one vehicle disconnected, or a person signed out of everything.
import { and, eq, ne } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { connections, users, vehicles, type StoredVehicle } from '../db/schema';
import { ApiError } from '../http/api-errors';
import type { SmartcarCalls } from './smartcar-calls';
import { deleteEmptyConnections, type VehicleStore } from './vehicle-store';

export class Disconnects {
  constructor(
    private readonly store: VehicleStore,
    private readonly smartcar: SmartcarCalls,
    private readonly log: FastifyBaseLogger,
  ) {}

  private get db() {
    return this.store.db;
  }

  /**
   * Forgets the vehicle and revokes Smartcar's access to it (unless another of our users still has
   * the car, see `revokeUnlessShared`), then its tokens if it was the connection's last vehicle.
   */
  async disconnect(userId: string, vehicleId: string): Promise<void> {
    const row = await this.store.ownedOne(userId, vehicleId);
    // Forgotten before the shared-car check, so two users disconnecting the same car at once cannot
    // each see the other's row and both leave it connected at Smartcar.
    await this.db.delete(vehicles).where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    try {
      if (row.status === 'active') await this.revokeUnlessShared(row.vehicle);
    } catch (error) {
      // Smartcar did not take the disconnect: the vehicle stays, so the person can try again.
      await this.db.insert(vehicles).values(row.vehicle).onConflictDoNothing();
      await this.store.changed(userId);
      throw error;
    }
    await deleteEmptyConnections(this.db, userId);
    await this.store.changed(userId);
  }

  /**
   * Signs the user out of everything: each vehicle is disconnected from Smartcar where it still
   * can be, then the user and all it owns (sessions, tokens, vehicles) are deleted.
   */
  async signOut(userId: string): Promise<void> {
    const owned = await this.store.owned(userId);
    // Forgotten first, as in `disconnect`; the tokens stay until the user is deleted below.
    await this.db.delete(vehicles).where(eq(vehicles.userId, userId));
    await Promise.all(
      owned
        .filter((row) => row.status === 'active')
        .map((row) =>
          this.revokeUnlessShared(row.vehicle).catch((error: unknown) => {
            // Signing out must not depend on Smartcar being up; the grant then lapses on its own.
            this.log.warn(
              { vehicleId: row.vehicle.id, code: error instanceof ApiError ? error.code : 'internal' },
              'disconnect failed at sign-out',
            );
          }),
        ),
    );
    await this.db.delete(users).where(eq(users.id, userId));
    this.store.answers.delete(userId);
  }

  /**
   * Ends this application's access to the vehicle at Smartcar. Smartcar's disconnect is per vehicle
   * and application, not per grant: while another of our users still has the car connected (the
   * same account signed in from another browser), revoking would end their access too, so the
   * vehicle is only forgotten here. The caller has deleted its own row of the vehicle already.
   */
  private async revokeUnlessShared(vehicle: StoredVehicle): Promise<void> {
    const [sharedWith] = await this.db
      .select({ userId: vehicles.userId })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(
        and(
          eq(vehicles.id, vehicle.id),
          ne(vehicles.userId, vehicle.userId),
          eq(connections.status, 'active'),
        ),
      )
      .limit(1);
    if (sharedWith) return;
    try {
      await this.smartcar.disconnect(vehicle);
    } catch (error) {
      // A connection that can no longer refresh has no access left to revoke.
      if (!(error instanceof ApiError && error.code === 'reconnect_required')) throw error;
    }
  }
}
