// Locking and unlocking. Not retried: a command that timed out may still have reached the car.
// The person waits a bounded time for Smartcar; a command not answered by then is "sent, not yet
// confirmed", and its own answer or the next lock-status read settles it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { UnitSystem, Vehicle } from '../../protocol/server-api';
import type { StoredCommand } from '../db/schema';
import {
  ApiError,
  budgetSpent,
  holdError,
  lockNotPermitted,
  reconnectRequired,
  UpstreamError,
} from '../http/api-errors';
import type { Clock } from '../lib/clock';
import type { SmartcarGateway } from '../smartcar/gateway';
import type { TokenVault } from '../vault/token-vault';
import { toApiVehicle, type OwnedVehicle } from './api-vehicle';
import type { RequestBudget } from './request-budget';
import type { VehicleReader } from './vehicle-reader';
import type { VehicleStore } from './vehicle-store';

/** What a lock or unlock came to within the time the person waits. */
export interface LockOutcome {
  vehicle: Vehicle;
  confirmed: boolean;
}

type LockAction = 'LOCK' | 'UNLOCK';

export class LockCommands {
  constructor(
    private readonly store: VehicleStore,
    private readonly reader: VehicleReader,
    private readonly vault: TokenVault,
    private readonly smartcar: SmartcarGateway,
    private readonly budget: RequestBudget,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    /** How long the person waits for Smartcar's answer. */
    private readonly waitMs: number,
  ) {}

  /** Locks or unlocks the vehicle; needs the `control_security` permission. */
  async setLock(
    userId: string,
    vehicleId: string,
    action: LockAction,
    units?: UnitSystem,
  ): Promise<LockOutcome> {
    const owned = await this.store.ownedOne(userId, vehicleId);
    await this.assertMaySend(owned);
    const pendingCommand = { action, sentAt: this.clock.now().toISOString() };
    await this.store.update(owned.vehicle, { pendingCommand });
    await this.store.changed(userId);
    const settled = this.send(owned, pendingCommand);
    const waited = await Promise.race([settled, sleep(this.waitMs).then(() => undefined)]);
    // A command still running is let go: its own completion updates the row.
    if (waited === undefined) {
      settled.catch((error: unknown) => {
        if (!(error instanceof ApiError)) this.log.error({ err: error }, 'lock command failed');
      });
    }
    await this.store.changed(userId);
    const current = await this.store.ownedOne(userId, vehicleId);
    const context = await this.store.readContext([current], this.clock.now());
    return { vehicle: toApiVehicle(current, context, units), confirmed: waited === true };
  }

  /** The grant allows locking, the connection is alive, and no hold or spent budget says to wait. */
  private async assertMaySend({ vehicle, status }: OwnedVehicle): Promise<void> {
    if (!vehicle.permissions?.includes('control_security')) {
      throw lockNotPermitted(vehicle.permissions !== null);
    }
    if (status !== 'active') throw reconnectRequired();
    const now = this.clock.now();
    const hold = await this.budget.holdFor(vehicle.id, now);
    if (hold) throw holdError(hold, now);
    const [billed] = (await this.budget.billed([vehicle.id], now)).values();
    if (!this.budget.allows(billed ?? 0, 1)) throw budgetSpent(now);
  }

  /**
   * Sends the command and records its outcome: true when Smartcar confirmed it, false when its
   * answer was lost (a lock-status read then settles it); rejects when Smartcar refused it.
   */
  private send({ vehicle }: OwnedVehicle, command: StoredCommand): Promise<boolean> {
    const call = this.reader.limited(() =>
      this.vault.withAccessToken(vehicle.connectionId, (token) =>
        this.smartcar.setLock(vehicle.id, token, command.action),
      ),
    );
    return call.then(
      async () => {
        await this.confirmed(vehicle.userId, vehicle.id, command);
        return true;
      },
      async (error: unknown) => {
        if (error instanceof UpstreamError && error.transient) {
          await this.unanswered(vehicle.userId, vehicle.id, command);
          return false;
        }
        await this.refused(vehicle.userId, vehicle.id, command, error);
        throw error;
      },
    );
  }

  /** Smartcar confirmed the command: the lock state is what was asked. */
  private async confirmed(userId: string, vehicleId: string, command: StoredCommand): Promise<void> {
    await this.budget.record(vehicleId, 1, this.clock.now());
    const { vehicle } = await this.store.ownedOne(userId, vehicleId);
    const security = { isLocked: command.action === 'LOCK' };
    await this.store.update(vehicle, {
      data: { ...vehicle.data, security },
      readAt: { ...vehicle.readAt, security: this.clock.now().toISOString() },
      ...(vehicle.pendingCommand?.sentAt === command.sentAt ? { pendingCommand: null } : {}),
    });
  }

  /**
   * Smartcar may have passed the command on before it failed to answer: count it (conservatively)
   * and let a lock-status read settle it.
   */
  private async unanswered(userId: string, vehicleId: string, command: StoredCommand): Promise<void> {
    await this.budget.record(vehicleId, 1, this.clock.now());
    const { vehicle } = await this.store.ownedOne(userId, vehicleId);
    if (vehicle.pendingCommand?.sentAt === command.sentAt) {
      await this.store.update(vehicle, { pendingCommand: { ...command, ended: true } });
    }
    await this.store.requestRead(vehicle, 'security');
    void this.reader.read(userId, vehicleId);
  }

  /** Refused: nothing happened at the car. Smartcar's limits are remembered. */
  private async refused(
    userId: string,
    vehicleId: string,
    command: StoredCommand,
    error: unknown,
  ): Promise<void> {
    const { vehicle } = await this.store.ownedOne(userId, vehicleId);
    if (vehicle.pendingCommand?.sentAt === command.sentAt) {
      await this.store.update(vehicle, { pendingCommand: null });
    }
    if (error instanceof UpstreamError) await this.budget.holdAfter(error, vehicleId, this.clock.now());
  }
}
