// The Management API's webhook subscriptions (docs `/api-reference/create-subscription`,
// `/api-reference/list-subscriptions`, `/api-reference/get-subscription`; Smartcar serves them on
// management.api.smartcar.com/v3, the emulator on its one origin), authenticated by the application
// management token. Free, on the application bucket with platform latency.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { SmartcarErrorReply } from './smartcar-errors';
import { connectionsOf, vehicleAttributes } from './v3-connections';
import { badRequest, clientOf, enter, notFound, type V3 } from './v3-gate';
import type { Subscription } from './webhooks';

type Params = { Params: { id: string } };

/** The request body: the reference requires `data.attributes`; its fields are assumed. */
const createSchema = z
  .object({
    data: z
      .object({
        type: z.literal('subscription').optional(),
        attributes: z
          .object({
            webhookId: z.string().min(1),
            vehicleId: z.string().min(1),
            userId: z.string().min(1).optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

/** Management paths take the application management token instead of the application token (assumed). */
const managementToken = (v3: V3, endpoint: string) =>
  enter(v3, endpoint, (store, token) => store.clientByManagementToken(token));

/** The list's filters (list-subscriptions reference); its `page[...]` and mode filter are not emulated. */
const FILTERS = {
  'filter[webhookId]': 'webhookId',
  'filter[vehicleId]': 'vehicleId',
  'filter[userId]': 'userId',
} as const;

export function subscriptionRoutes(app: FastifyInstance, v3: V3): void {
  const { store, webhooks, gate } = v3;
  app.post(
    '/subscriptions',
    { preHandler: managementToken(v3, 'createSubscription') },
    async (request, reply) => {
      const client = clientOf(v3, request);
      const parsed = createSchema.safeParse(request.body);
      if (!parsed.success) throw badRequest();
      const { webhookId, vehicleId, userId } = parsed.data.data.attributes;
      const webhook = webhooks.webhook(client.clientId, webhookId);
      const connection = connectionsOf(store, client.clientId).find(
        (candidate) =>
          candidate.vehicle.id === vehicleId && (userId ?? candidate.userId) === candidate.userId,
      );
      if (!webhook || !connection) throw notFound();
      if (!(await gate.admit(client, request, reply))) return reply;
      // Already subscribed: the reference lists 409 Conflict (assumed to mean this).
      if (!webhooks.subscribe(webhook, connection))
        throw new SmartcarErrorReply('VALIDATION', 'CONFLICT', 409);
      return reply.code(202).send({ meta: { message: 'subscription creation in progress' } });
    },
  );

  app.get(
    '/subscriptions',
    { preHandler: managementToken(v3, 'listSubscriptions') },
    async (request, reply) => {
      const client = clientOf(v3, request);
      const query = request.query as Record<string, string>;
      if (Object.keys(query).some((key) => !(key in FILTERS))) throw badRequest();
      if (!(await gate.admit(client, request, reply))) return reply;
      const matching = webhooks
        .listSubscriptions(client.clientId)
        .filter((subscription) =>
          Object.entries(FILTERS).every(
            ([key, field]) => (query[key] ?? subscription[field]) === subscription[field],
          ),
        );
      return { data: matching.map((subscription) => subscriptionResource(v3, subscription)) };
    },
  );

  subscriptionByIdRoutes(app, v3);
}

/** A subscription as get-subscription shows it (the reference's example types every relationship `webhook`). */
function subscriptionResource({ store }: V3, subscription: Subscription) {
  const vehicle = store.vehicles.get(subscription.vehicleId);
  const related = (type: string, id: string) => ({ data: { type, id } });
  return {
    type: 'subscription',
    id: subscription.id,
    attributes: { vehicle: vehicle ? vehicleAttributes(vehicle) : null },
    meta: {
      createdAt: new Date(subscription.createdAt).toISOString(),
      updatedAt: new Date(subscription.createdAt).toISOString(),
    },
    relationships: {
      webhook: related('webhook', subscription.webhookId),
      user: related('user', subscription.userId),
      vehicle: related('vehicle', subscription.vehicleId),
    },
    links: { self: `/subscriptions/${subscription.id}` },
  };
}

/** One subscription, by the id the list answers: read it, or delete it. */
function subscriptionByIdRoutes(app: FastifyInstance, v3: V3): void {
  const { webhooks, gate } = v3;
  const subscriptionOf = (clientId: string, id: string) => {
    const subscription = webhooks.listSubscriptions(clientId).find((candidate) => candidate.id === id);
    if (!subscription) throw notFound();
    return subscription;
  };
  app.get<Params>(
    '/subscriptions/:id',
    { preHandler: managementToken(v3, 'getSubscription') },
    async (request, reply) => {
      const client = clientOf(v3, request);
      const subscription = subscriptionOf(client.clientId, request.params.id);
      if (!(await gate.admit(client, request, reply))) return reply;
      return { data: subscriptionResource(v3, subscription) };
    },
  );
  app.delete<Params>(
    '/subscriptions/:id',
    { preHandler: managementToken(v3, 'deleteSubscription') },
    async (request, reply) => {
      const client = clientOf(v3, request);
      const subscription = subscriptionOf(client.clientId, request.params.id);
      if (!(await gate.admit(client, request, reply))) return reply;
      webhooks.unsubscribe(subscription);
      return reply.code(204).send();
    },
  );
}
