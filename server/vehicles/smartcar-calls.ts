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

/**
 * API v3 for every connection whose Smartcar user Smartcar has proven; a connection it will not
 * tell (granted before v3, without `read_user_profile`) keeps being served through API v2.0.
 */
export function callsV3(vault: TokenVault, v3: SmartcarV3, v2: SmartcarCalls): SmartcarCalls {
  const user = (connectionId: string) => vault.smartcarUserId(connectionId);
  return {
    vehicleIds: async (connectionId) => {
      const userId = await user(connectionId);
      return userId === null ? v2.vehicleIds(connectionId) : v3.vehicleIds(userId);
    },
    grant: async (vehicle) => {
      const userId = await user(vehicle.connectionId);
      return userId === null ? v2.grant(vehicle) : v3.connection(userId, vehicle.id);
    },
    read: async (vehicle, request) => {
      const userId = await user(vehicle.connectionId);
      return userId === null ? v2.read(vehicle, request) : v3.readSignals(vehicle.id, userId, request);
    },
    disconnect: async (vehicle) => {
      const userId = await user(vehicle.connectionId);
      return userId === null ? v2.disconnect(vehicle) : v3.disconnect(userId, vehicle.id);
    },
  };
}
