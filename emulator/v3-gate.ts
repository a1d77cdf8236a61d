// What every /v3 request passes before its handler acts: it is counted, an armed fault plays (with a
// v3 body), its Bearer token names the application; signal and command paths also need `sc-user-id`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { playFault, type Fault } from './faults';
import { SmartcarErrorReply } from './smartcar-errors';
import type { EmulatorClient, Store } from './store';
import { connectionsOf, type Connection } from './v3-connections';
import { sendV3Error } from './v3-errors';
import { bearer, faultError, type VehicleGate } from './vehicle-gate';

export type V3 = EmulatorContext & { gate: VehicleGate; clients: WeakMap<FastifyRequest, EmulatorClient> };

export const notFound = () => new SmartcarErrorReply('RESOURCE_NOT_FOUND', 'NOT_FOUND');
export const badRequest = () => new SmartcarErrorReply('VALIDATION', 'BAD_REQUEST');

/** Which application a Bearer token stands for: the application token by default. */
type Authenticator = (store: Store, token: string) => EmulatorClient | undefined;

const applicationToken: Authenticator = (store, token) => store.authenticateApplication(token);

/** Counts the call, plays an armed fault (with a v3 body), then authenticates the Bearer token. */
export function enter(
  { store, calls, faults, clients }: V3,
  endpoint: string,
  authenticate = applicationToken,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearer(request);
    calls.record(endpoint, token, (request.params as { id?: string }).id);
    const fault = faults.take([endpoint]);
    const answer = (played: Fault) => sendV3Error(request, reply, faultError(played));
    if (fault && (await playFault(fault, request, reply, answer))) return;
    const client = token === undefined ? undefined : authenticate(store, token);
    if (!client) throw new SmartcarErrorReply('AUTHENTICATION', 'UNAUTHORIZED');
    clients.set(request, client);
  };
}

export function clientOf({ clients }: V3, request: FastifyRequest): EmulatorClient {
  const client = clients.get(request);
  if (!client) throw new Error(`${request.url} has no enter hook.`);
  return client;
}

/**
 * The connection through which `sc-user-id` reaches the path's vehicle. No source names these errors
 * (assumed, strict): no header is 400 MISSING_PARAMETER, a vehicle the application has no connection
 * to is 404, a user who has not connected that vehicle is 403 ACCESS_DENIED.
 */
export function userConnection(v3: V3, request: FastifyRequest): Connection {
  const userId = request.headers['sc-user-id'];
  if (typeof userId !== 'string' || userId === '')
    throw new SmartcarErrorReply('VALIDATION', 'MISSING_PARAMETER');
  const vehicleId = (request.params as { id: string }).id;
  const vehicleConnections = connectionsOf(v3.store, clientOf(v3, request).clientId).filter(
    ({ vehicle }) => vehicle.id === vehicleId,
  );
  if (vehicleConnections.length === 0) throw notFound();
  const connection = vehicleConnections.find((candidate) => candidate.userId === userId);
  if (!connection) throw new SmartcarErrorReply('AUTHENTICATION', 'ACCESS_DENIED');
  return connection;
}
