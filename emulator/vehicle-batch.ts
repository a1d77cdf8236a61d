// POST /v2.0/vehicles/:id/batch: several reads of one vehicle in one request, each item counted,
// faulted, permission-checked and billed as its own endpoint would be.
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context';
import { answersInstead, pause } from './faults';
import { SmartcarErrorReply, smartcarErrorBody } from './smartcar-errors';
import { BATCH_ENDPOINTS, canonicalPath } from './vehicle-endpoints';
import {
  bearer,
  faultError,
  requirePermission,
  stillConnected,
  unitSystem,
  type Outcome,
  type VehicleGate,
} from './vehicle-gate';

/** The endpoints a batch body names; VALIDATION when it is malformed or names one a batch may not hold. */
function batchEndpoints(body: unknown) {
  const requests = (body as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  }
  const endpoints = requests.map((item: unknown) => {
    const path = (item as { path?: unknown } | null)?.path;
    if (typeof path !== 'string') throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
    return BATCH_ENDPOINTS.get(canonicalPath(path));
  });
  if (!endpoints.every((endpoint) => endpoint !== undefined)) throw new SmartcarErrorReply('VALIDATION');
  return endpoints;
}

export function batchRoute(
  app: FastifyInstance,
  { calls, faults, limits }: EmulatorContext,
  gate: VehicleGate,
) {
  app.post<{ Params: { id: string } }>(
    '/vehicles/:id/batch',
    { preHandler: gate.enterVehicle('batch') },
    async (request, reply) => {
      const { grant, vehicle, granted } = gate.accessOf(request);
      const endpoints = batchEndpoints(request.body);
      const units = unitSystem(request);
      const token = bearer(request);
      // Each item is a call to its endpoint: counted, and subject to that endpoint's faults. A batch is one
      // HTTP request, so `*` faults act on it as a whole (above) and drops stay armed for a direct call.
      const items = endpoints.map((endpoint) => {
        calls.record(endpoint.name, token, vehicle.id, { batchItem: true });
        const fault = faults.take([endpoint.name], { wildcard: false, accept: ({ drop }) => drop !== true });
        return { endpoint, fault };
      });
      // "Each endpoint in a batch counts against your request limit" (docs /api-reference/batch).
      if (!(await gate.admit(grant, request, reply, { vehicleId: vehicle.id, items: items.length }))) {
        return reply;
      }
      // Smartcar answers a batch once every item is done, so the slowest item delays the whole answer.
      const delayMs = Math.max(0, ...items.map(({ fault }) => fault?.delayMs ?? 0));
      if (delayMs > 0) {
        await pause(delayMs, request);
        if (!stillConnected(request, reply)) return reply;
      }
      const responses = items.map(({ endpoint, fault }) => {
        let outcome: Outcome;
        try {
          if (fault && answersInstead(fault)) throw faultError(fault);
          requirePermission(granted, endpoint.permission);
          // Each successful item is billed; one past the vehicle's allowance fails on its own.
          if (limits.allowanceLeft(vehicle.id) < 1) {
            throw new SmartcarErrorReply('BILLING', 'VEHICLE_REQUEST_LIMIT');
          }
          outcome = gate.read(endpoint, vehicle, granted, units);
        } catch (error) {
          if (!(error instanceof SmartcarErrorReply)) throw error;
          const body = smartcarErrorBody(error.type, error.code, request.id, error.status);
          outcome = {
            status: body.statusCode,
            headers: { 'content-type': 'application/json', 'sc-unit-system': units },
            body,
          };
        }
        return { path: endpoint.path, body: outcome.body, code: outcome.status, headers: outcome.headers };
      });
      return { responses };
    },
  );
}
