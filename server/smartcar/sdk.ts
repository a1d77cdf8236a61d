// The official SDK, bound to the origins and time limit this server was given. The SDK itself
// reads its origins from process.env and its time limit from a config file it shares with every
// caller, and it builds Connect's address from the API's origin. Each SDK object made here is
// pointed at this server's own instead, so nothing process-wide changes and two servers in one
// process (tests) can talk to two different Smartcars.
import smartcar, { type AuthClient, type Vehicle } from 'smartcar';

/** Where each Smartcar service this server uses answers. */
export interface SmartcarOrigins {
  /** Smartcar Connect, where the person signs in (`connect.smartcar.com`). */
  connect: string;
  /** The token endpoint of API v2.0's per-connection tokens (`auth.smartcar.com`). */
  auth: string;
  /** The token endpoint of API v3's application token (`iam.smartcar.com`). */
  iam: string;
  /** The vehicle API, v2.0 (`api.smartcar.com`). */
  api: string;
  /** The vehicle API, v3 (`vehicle.api.smartcar.com`). */
  apiV3: string;
}

export const SMARTCAR_ORIGINS: SmartcarOrigins = {
  connect: 'https://connect.smartcar.com',
  auth: 'https://auth.smartcar.com',
  iam: 'https://iam.smartcar.com',
  api: 'https://api.smartcar.com',
  apiV3: 'https://vehicle.api.smartcar.com',
};

const API_VERSION = '2.0';

/** The part of the SDK's objects that decides where a request goes and how long it may take. */
interface SdkService {
  service: {
    baseUrl: string;
    defaultOptions: { timeout: number };
    request(method: string, path: string, body: null, options: { qs: object }): Promise<unknown>;
  };
}

export interface VehicleList {
  vehicles: string[];
  paging: { count: number; offset: number };
}

export class BoundSdk {
  constructor(
    private readonly origins: SmartcarOrigins,
    private readonly timeoutMs: number,
  ) {}

  authClient(options: ConstructorParameters<typeof smartcar.AuthClient>[0]): AuthClient {
    const client = new smartcar.AuthClient(options);
    this.bind(client, this.origins.auth);
    return client;
  }

  /** Connect's address as the SDK builds it, on this server's Connect origin. */
  connectUrl(client: AuthClient, ...args: Parameters<AuthClient['getAuthUrl']>): string {
    const url = new URL(client.getAuthUrl(...args));
    const connect = new URL(this.origins.connect);
    url.protocol = connect.protocol;
    url.host = connect.host;
    return url.toString();
  }

  vehicle(id: string, accessToken: string, options?: ConstructorParameters<typeof Vehicle>[2]): Vehicle {
    const vehicle = new smartcar.Vehicle(id, accessToken, options);
    this.bind(vehicle, `${this.origins.api}/v${API_VERSION}/vehicles/${encodeURIComponent(id)}`);
    return vehicle;
  }

  /** `GET /vehicles`, as the SDK's `getVehicles` asks it (that function has no object to bind). */
  async vehicles(accessToken: string, paging: { offset?: number }): Promise<VehicleList> {
    return (await this.get(accessToken, 'vehicles', paging)) as VehicleList;
  }

  /** `GET /user`, as the SDK's `getUser` asks it: the Smartcar user the token belongs to. */
  async user(accessToken: string): Promise<{ id: string }> {
    return (await this.get(accessToken, 'user', {})) as { id: string };
  }

  /** A GET on the vehicle API with the token, through an SDK service bound to this server's origin. */
  private get(accessToken: string, path: string, query: object): Promise<unknown> {
    const request = new smartcar.Vehicle('', accessToken) as Vehicle & SdkService;
    this.bind(request, `${this.origins.api}/v${API_VERSION}/${path}`);
    return request.service.request('get', '', null, { qs: query });
  }

  private bind(object: object, baseUrl: string): void {
    const { service } = object as SdkService;
    service.baseUrl = baseUrl;
    service.defaultOptions.timeout = this.timeoutMs;
  }
}
