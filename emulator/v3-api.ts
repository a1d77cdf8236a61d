// API v3 under /v3: the Connections API and vehicle signals, authenticated by the application token
// (POST /oauth2/token), with `sc-user-id` naming the user on signal reads, and v3 error bodies.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { SmartcarErrorReply } from './smartcar-errors';
import type { EmulatorClient } from './store';
import { commandRoutes } from './v3-commands';
import { connectionResource, connectionsOf, vehicleAttributes } from './v3-connections';
import { answerErrorsAsV3 } from './v3-errors';
import { badRequest, clientOf, enter, notFound, userConnection, type V3 } from './v3-gate';
import { subscriptionRoutes } from './v3-subscriptions';
import { SIGNALS, readableSignals, signalResource } from './v3-signals';
import type { Query } from './vehicle-endpoints';
import { createVehicleGate } from './vehicle-gate';

type Params = { Params: { id: string; code: string } };

export function v3Routes(app: FastifyInstance, ctx: EmulatorContext, done: () => void): void {
  answerErrorsAsV3(app);
  const v3 = { ...ctx, gate: createVehicleGate(ctx), clients: new WeakMap<FastifyRequest, EmulatorClient>() };
  connectionRoutes(app, v3);
  vehicleRoutes(app, v3);
  commandRoutes(app, v3);
  subscriptionRoutes(app, v3);
  done();
}

/** `page` (from 1) and `pageSize` (1–100, default 10), and the filters the path allows; anything else is a 400. */
function paging(query: Query, filters: readonly string[]) {
  const unknown = Object.keys(query).filter((key) => !['page', 'pageSize', ...filters].includes(key));
  const number = (value: string | undefined, fallback: number, max: number) => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw badRequest();
    return parsed;
  };
  if (unknown.length > 0) throw badRequest();
  return { page: number(query.page, 1, Number.MAX_SAFE_INTEGER), pageSize: number(query.pageSize, 10, 100) };
}

/** One page of `items` with `meta` and `links`, as the list-signals reference and the SDK's tests show. */
function pageOf<T>(
  items: T[],
  { page, pageSize }: { page: number; pageSize: number },
  path: string,
  query: Query,
) {
  const last = Math.max(1, Math.ceil(items.length / pageSize));
  const link = (to: number) =>
    `${path}?${new URLSearchParams({ ...query, page: String(to), pageSize: String(pageSize) })}`;
  return {
    data: items.slice((page - 1) * pageSize, page * pageSize),
    meta: { page, pageSize, totalCount: items.length },
    links: {
      self: link(page),
      first: link(1),
      previous: page > 1 ? link(page - 1) : null,
      next: page < last ? link(page + 1) : null,
      last: link(last),
    },
  };
}

/** The Connections API: list (filtered by user and vehicle), get, remove one, remove a user. Free. */
function connectionRoutes(app: FastifyInstance, v3: V3): void {
  const { store, gate } = v3;
  const filters = ['filter[userId]', 'filter[vehicleId]'];
  app.get('/connections', { preHandler: enter(v3, 'getConnections') }, async (request, reply) => {
    const client = clientOf(v3, request);
    const query = request.query as Query;
    const page = paging(query, filters);
    if (!(await gate.admit(client, request, reply))) return reply;
    const matching = connectionsOf(store, client.clientId).filter(
      ({ userId, vehicle }) =>
        (query['filter[userId]'] ?? userId) === userId &&
        (query['filter[vehicleId]'] ?? vehicle.id) === vehicle.id,
    );
    return pageOf(matching.map(connectionResource), page, '/connections', query);
  });

  app.get<Params>('/connections/:id', { preHandler: enter(v3, 'getConnection') }, async (request, reply) => {
    const client = clientOf(v3, request);
    const connection = connectionsOf(store, client.clientId).find(({ id }) => id === request.params.id);
    if (!connection) throw notFound();
    if (!(await gate.admit(client, request, reply))) return reply;
    return { data: connectionResource(connection) };
  });

  app.delete<Params>(
    '/connections/:id',
    { preHandler: enter(v3, 'deleteConnection') },
    async (request, reply) => {
      const client = clientOf(v3, request);
      const connection = connectionsOf(store, client.clientId).find(({ id }) => id === request.params.id);
      if (!connection) throw notFound();
      if (!(await gate.admit(client, request, reply))) return reply;
      store.disconnect(client.clientId, connection.vehicle.id);
      return reply.code(204).send();
    },
  );

  app.delete<Params>('/users/:id', { preHandler: enter(v3, 'deleteUser') }, async (request, reply) => {
    const client = clientOf(v3, request);
    const connection = connectionsOf(store, client.clientId).find(
      ({ userId }) => userId === request.params.id,
    );
    if (!connection) throw notFound();
    if (!(await gate.admit(client, request, reply))) return reply;
    store.disconnectAccount(client.clientId, connection.account);
    return reply.code(204).send();
  });
}

/** The vehicle's attributes (free), one signal, and every signal the connection may read (each billed). */
function vehicleRoutes(app: FastifyInstance, v3: V3): void {
  const { store, limits, gate } = v3;
  app.get<Params>('/vehicles/:id', { preHandler: enter(v3, 'getVehicle') }, async (request, reply) => {
    const client = clientOf(v3, request);
    const connection = connectionsOf(store, client.clientId).find(
      ({ vehicle }) => vehicle.id === request.params.id,
    );
    if (!connection) throw notFound();
    if (!(await gate.admit(client, request, reply))) return reply;
    const { vehicle } = connection;
    return {
      id: vehicle.id,
      type: 'vehicle',
      attributes: vehicleAttributes(vehicle),
      links: { self: `/vehicles/${vehicle.id}` },
    };
  });

  app.get<Params>(
    '/vehicles/:id/signals/:code',
    { preHandler: enter(v3, 'getSignal') },
    async (request, reply) => {
      const { vehicle, permissions } = userConnection(v3, request);
      const signal = SIGNALS.find(({ code }) => code === request.params.code);
      if (!signal || !vehicle.capabilities.has(signal.permission)) throw notFound();
      if (!permissions.includes(signal.permission)) throw new SmartcarErrorReply('PERMISSION');
      if (!(await gate.admit(clientOf(v3, request), request, reply, { vehicleId: vehicle.id }))) return reply;
      gate.reachVehicle(vehicle);
      limits.bill(vehicle.id);
      return signalResource(signal, vehicle, store.now());
    },
  );

  app.get<Params>(
    '/vehicles/:id/signals',
    { preHandler: enter(v3, 'getSignals') },
    async (request, reply) => {
      const { vehicle, permissions } = userConnection(v3, request);
      const query = request.query as Query;
      const page = paging(query, []);
      if (!(await gate.admit(clientOf(v3, request), request, reply, { vehicleId: vehicle.id }))) return reply;
      gate.reachVehicle(vehicle);
      const now = store.now();
      const all = readableSignals(vehicle, permissions).map((signal) => signalResource(signal, vehicle, now));
      const answer = pageOf(all, page, `/vehicles/${vehicle.id}/signals`, query);
      // Each signal read counts one billed request (assumed: no source says how v3 bills).
      if (answer.data.length > 0) limits.bill(vehicle.id, answer.data.length);
      const included = {
        vehicle: { id: vehicle.id, type: 'vehicle', attributes: vehicleAttributes(vehicle) },
      };
      return { ...answer, included };
    },
  );
}
