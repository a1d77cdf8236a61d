// What the vehicles' rooms ask of Smartcar, in the configured API generation: with API v2.0,
// through the connection's own tokens and batch reads; with API v3, through the application token,
// naming the Smartcar user the connection's grant belongs to, and by signal. The reader and the
// disconnects decide what and when; this says how.
import type { StoredVehicle } from '../db/schema';
import type {
  Attributes,
  BatchReading,
  PopupFigure,
  ReadRequest,
  SmartcarGateway,
} from '../smartcar/gateway';
import type { SmartcarV3 } from '../smartcar/v3-gateway';
import type { TokenVault } from '../vault/token-vault';

/** What a grant allows for a vehicle, and what else Smartcar tells with it for free. */
interface Grant {
  permissions: string[];
  attributes?: Attributes;
  /** Figures the vehicle cannot give, known without asking for them. */
  incapable?: PopupFigure[];
}

export interface SmartcarCalls {
  /** The vehicles a connection covers (free). */
  vehicleIds(connectionId: string): Promise<string[]>;
  grant(vehicle: StoredVehicle): Promise<Grant>;
  read(vehicle: StoredVehicle, request: ReadRequest): Promise<BatchReading>;
  /** Ends this application's access to the vehicle (free); done already counts as done. */
  disconnect(vehicle: StoredVehicle): Promise<void>;
}

export function callsV2(vault: TokenVault, smartcar: SmartcarGateway): SmartcarCalls {
  return {
    vehicleIds: (connectionId) => vault.withAccessToken(connectionId, (token) => smartcar.vehicleIds(token)),
    grant: async (vehicle) => ({
      permissions: await vault.withAccessToken(vehicle.connectionId, (token) =>
        smartcar.permissions(vehicle.id, token),
      ),
    }),
    read: (vehicle, request) =>
      vault.withAccessToken(vehicle.connectionId, (token) =>
        smartcar.readVehicle(vehicle.id, token, request),
      ),
    disconnect: (vehicle) =>
      vault.withAccessToken(vehicle.connectionId, (token) => smartcar.disconnect(vehicle.id, token)),
  };
}

export function callsV3(vault: TokenVault, v3: SmartcarV3): SmartcarCalls {
  return {
    vehicleIds: async (connectionId) => v3.vehicleIds(await vault.smartcarUserId(connectionId)),
    grant: async (vehicle) => v3.connection(await vault.smartcarUserId(vehicle.connectionId), vehicle.id),
    read: async (vehicle, request) =>
      v3.readSignals(vehicle.id, await vault.smartcarUserId(vehicle.connectionId), request),
    disconnect: async (vehicle) =>
      v3.disconnect(await vault.smartcarUserId(vehicle.connectionId), vehicle.id),
  };
}
