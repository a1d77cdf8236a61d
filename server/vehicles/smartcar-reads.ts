// How a read reaches Smartcar: with API v2.0, through the connection's own tokens and batch reads;
// with API v3, through the application token, naming the Smartcar user the connection's grant
// belongs to, and by signal. The reader (vehicle-reader.ts) decides what and when; this says how.
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

export interface SmartcarReads {
  /** The vehicles a connection covers (free). */
  vehicleIds(connectionId: string): Promise<string[]>;
  grant(vehicle: StoredVehicle): Promise<Grant>;
  read(vehicle: StoredVehicle, request: ReadRequest): Promise<BatchReading>;
}

export function readsV2(vault: TokenVault, smartcar: SmartcarGateway): SmartcarReads {
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
  };
}

export function readsV3(vault: TokenVault, v3: SmartcarV3): SmartcarReads {
  return {
    vehicleIds: async (connectionId) => v3.vehicleIds(await vault.smartcarUserId(connectionId)),
    grant: async (vehicle) => v3.connection(await vault.smartcarUserId(vehicle.connectionId), vehicle.id),
    read: async (vehicle, request) =>
      v3.readSignals(vehicle.id, await vault.smartcarUserId(vehicle.connectionId), request),
  };
}
