// API v3's connections: one per vehicle a person approved in Connect for an application, derived from
// the same grants the v2 tokens stand for, so a v2 disconnect ends the connection and a v3 removal
// takes the vehicle from the v2 tokens too. Shapes from docs `/api-reference/get-connection`.
import { ENGINE_TYPES } from './compatibility';
import { stableUuid, userIdOf, type EmulatedVehicle } from './fleet';
import type { Permission } from './permission-labels';
import type { Store } from './store';

export interface Connection {
  id: string;
  account: string;
  userId: string;
  vehicle: EmulatedVehicle;
  permissions: Permission[];
  /** The first grant of this vehicle to the application. */
  createdAt: number;
  /** The latest one (a returning Connect updates the connection). */
  updatedAt: number;
}

/** The application's connections, oldest first; a later grant's permissions replace an earlier one's. */
export function connectionsOf(store: Store, clientId: string): Connection[] {
  const connections = new Map<string, Connection>();
  for (const grant of store.clientGrants(clientId)) {
    for (const [vehicleId, permissions] of grant.vehicles) {
      const vehicle = store.vehicles.get(vehicleId);
      if (!vehicle) continue;
      const id = stableUuid(`connection|${clientId}|${grant.account}|${vehicleId}`);
      connections.set(id, {
        id,
        account: grant.account,
        userId: userIdOf(grant.account),
        vehicle,
        permissions: [...permissions],
        createdAt: connections.get(id)?.createdAt ?? grant.createdAt,
        updatedAt: grant.createdAt,
      });
    }
  }
  return [...connections.values()];
}

/** make, model, year and powertrain, as a connection and `GET /v3/vehicles/{id}` show them. */
export function vehicleAttributes({ model }: EmulatedVehicle) {
  return {
    make: model.make,
    model: model.model,
    year: model.year,
    powertrainType: ENGINE_TYPES[model.powertrain],
  };
}

export function connectionResource(connection: Connection) {
  const vehicleId = connection.vehicle.id;
  return {
    id: connection.id,
    type: 'connection',
    attributes: { permissions: connection.permissions, vehicle: vehicleAttributes(connection.vehicle) },
    relationships: {
      vehicle: { data: { id: vehicleId, type: 'vehicle' }, links: { related: `/vehicles/${vehicleId}` } },
      user: { data: { id: connection.userId, type: 'user' } },
    },
    meta: {
      createdAt: new Date(connection.createdAt).toISOString(),
      updatedAt: new Date(connection.updatedAt).toISOString(),
    },
    links: { self: `/connections/${connection.id}` },
  };
}
