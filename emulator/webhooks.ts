// API v3 webhooks: configured in Smartcar's dashboard (here: `EmulatorOptions.webhooks` and the control
// API), vehicles subscribed by auto-enrollment or the Management API, and the events Smartcar posts:
// VERIFY when a callback URL is set, VEHICLE_STATE with FIRST_DELIVERY on subscription and when a trigger
// signal changes, VEHICLE_ERROR when a car fails or recovers (docs `/api-reference/webhooks/event-types`).
import { randomUUID } from 'node:crypto';
import type { Latency } from './latency';
import { smartcarErrorBody } from './smartcar-errors';
import type { Store } from './store';
import { connectionsOf, type Connection } from './v3-connections';
import { SIGNALS, signalResource } from './v3-signals';
import { deliver, signature, type Delivery, type EventBody } from './webhook-delivery';

export interface EmulatorWebhook {
  id: string;
  /** The application it belongs to; the first registered client when omitted. */
  clientId?: string;
  name?: string;
  /** The callback URL; without one, nothing is delivered. */
  url?: string;
  /** Signal codes each VEHICLE_STATE carries; every signal the emulator knows when omitted. */
  signals?: string[];
  /** Signal codes whose change fires VEHICLE_STATE; all of `signals` when omitted. */
  triggers?: string[];
  /** Subscribes every connected vehicle, and each new connection (the dashboard's auto-enrollment). */
  autoEnroll?: boolean;
}

interface Webhook extends Required<Omit<EmulatorWebhook, 'url'>> {
  url?: string;
  verified: boolean;
}

export interface Subscription {
  id: string;
  webhookId: string;
  vehicleId: string;
  userId: string;
  createdAt: number;
  /** Trigger values (as JSON) last delivered, to tell which triggers changed. */
  delivered: Map<string, string>;
  /** Until the webhook is verified, the FIRST_DELIVERY waits. */
  firstDelivered: boolean;
}

type Trigger = { code: 'FIRST_DELIVERY' } | { code: string; name: string; group: string };

export class WebhookHub {
  private readonly webhooks = new Map<string, Webhook>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly log: Delivery[] = [];
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly latency: Latency,
  ) {}

  /** Creates or replaces a webhook; a new or changed URL is verified (VERIFY) before data flows. */
  configure(config: EmulatorWebhook): void {
    const previous = this.webhooks.get(config.id);
    const signals = config.signals ?? SIGNALS.map(({ code }) => code);
    const webhook: Webhook = {
      id: config.id,
      clientId: config.clientId ?? this.store.clients[0]?.clientId ?? '',
      name: config.name ?? config.id,
      url: config.url,
      signals,
      triggers: config.triggers ?? signals,
      autoEnroll: config.autoEnroll ?? false,
      verified: previous !== undefined && previous.url === config.url && previous.verified,
    };
    this.webhooks.set(webhook.id, webhook);
    if (webhook.url !== undefined && !webhook.verified) void this.verify(webhook);
    if (webhook.autoEnroll) this.enroll(webhook.clientId);
  }

  webhook(clientId: string, webhookId: string): Webhook | undefined {
    const webhook = this.webhooks.get(webhookId);
    return webhook?.clientId === clientId ? webhook : undefined;
  }

  /** Every delivery so far, oldest first (retries update their entry). */
  deliveries(): Delivery[] {
    return this.log.map((delivery) => ({ ...delivery, statuses: [...delivery.statuses] }));
  }

  listSubscriptions(clientId: string): Subscription[] {
    return [...this.subscriptions.values()].filter(
      (s) => this.webhooks.get(s.webhookId)?.clientId === clientId,
    );
  }

  /** Subscribes the connection's vehicle; false when it already is. Sends the FIRST_DELIVERY. */
  subscribe(webhook: Webhook, connection: Connection): boolean {
    const key = `${webhook.id}|${connection.vehicle.id}`;
    if (this.subscriptions.has(key)) return false;
    const subscription: Subscription = {
      id: randomUUID(),
      webhookId: webhook.id,
      vehicleId: connection.vehicle.id,
      userId: connection.userId,
      createdAt: this.store.now(),
      delivered: new Map(),
      firstDelivered: false,
    };
    this.subscriptions.set(key, subscription);
    this.sendState(webhook, subscription, [{ code: 'FIRST_DELIVERY' }]);
    return true;
  }

  unsubscribe(subscription: Subscription): void {
    this.subscriptions.delete(`${subscription.webhookId}|${subscription.vehicleId}`);
  }

  /** Auto-enrolling webhooks of the application take every vehicle it is connected to. */
  enroll(clientId: string): void {
    for (const webhook of this.webhooks.values()) {
      if (webhook.clientId !== clientId || !webhook.autoEnroll) continue;
      for (const connection of connectionsOf(this.store, clientId)) this.subscribe(webhook, connection);
    }
  }

  /** The simulated car changed: a VEHICLE_STATE to each subscription whose trigger signals changed. */
  vehicleChanged(vehicleId: string): void {
    for (const subscription of this.subscriptions.values()) {
      const webhook = this.webhooks.get(subscription.webhookId);
      if (subscription.vehicleId !== vehicleId || !webhook || !subscription.firstDelivered) continue;
      const changed = this.triggerValues(webhook, subscription).filter(
        ([signal, value]) => subscription.delivered.get(signal.code) !== value,
      );
      if (changed.length === 0) continue;
      this.sendState(
        webhook,
        subscription,
        changed.map(([{ code, name, group }]) => ({ code, name, group })),
      );
    }
  }

  /** The car started failing (`error`) or recovered (`resolved`): a VEHICLE_ERROR to each subscription. */
  vehicleError(
    vehicleId: string,
    error: { type: string; code: string | null },
    state: 'ERROR' | 'RESOLVED',
  ): void {
    for (const subscription of this.subscriptions.values()) {
      const webhook = this.webhooks.get(subscription.webhookId);
      if (subscription.vehicleId !== vehicleId || !webhook) continue;
      const v2 = smartcarErrorBody(error.type, error.code, randomUUID());
      const errors = [
        {
          type: error.type,
          code: error.code,
          state,
          description: v2.description,
          suggestedUserMessage: v2.suggestedUserMessage ?? null,
          resolution: v2.resolution,
          signals: webhook.signals,
        },
      ];
      this.send(webhook, 'VEHICLE_ERROR', (meta) => ({
        vehicleId,
        data: { ...this.subject(subscription), errors },
        meta: { ...meta, version: '4.0', webhookId: webhook.id, webhookName: webhook.name, mode: 'LIVE' },
      }));
    }
  }

  close(): void {
    this.closed = true;
  }

  private triggerValues(webhook: Webhook, subscription: Subscription) {
    const vehicle = this.store.vehicles.get(subscription.vehicleId);
    const now = this.store.now();
    return SIGNALS.filter(({ code }) => webhook.triggers.includes(code)).flatMap((signal) =>
      vehicle?.capabilities.has(signal.permission)
        ? [[signal, JSON.stringify(signal.read(vehicle, now))] as const]
        : [],
    );
  }

  /** `data.user` and `data.vehicle` of an event about the subscription's vehicle. */
  private subject(subscription: Subscription) {
    const vehicle = this.store.vehicles.get(subscription.vehicleId);
    const model = vehicle?.model;
    return {
      user: { id: subscription.userId },
      vehicle: { id: subscription.vehicleId, make: model?.make, model: model?.model, year: model?.year },
    };
  }

  private sendState(webhook: Webhook, subscription: Subscription, triggers: Trigger[]): void {
    const vehicle = this.store.vehicles.get(subscription.vehicleId);
    if (!vehicle || !webhook.verified) return;
    subscription.firstDelivered = true;
    for (const [signal, value] of this.triggerValues(webhook, subscription))
      subscription.delivered.set(signal.code, value);
    const now = this.store.now();
    const signals = SIGNALS.filter(({ code }) => webhook.signals.includes(code)).map((signal) => {
      if (!vehicle.capabilities.has(signal.permission)) {
        const { code, name, group } = signal;
        return {
          code,
          name,
          group,
          status: { value: 'ERROR', error: { type: 'COMPATIBILITY', code: 'VEHICLE_NOT_CAPABLE' } },
        };
      }
      const { attributes, meta } = signalResource(signal, vehicle, now);
      return { ...attributes, meta };
    });
    this.send(webhook, 'VEHICLE_STATE', (meta) => ({
      vehicleId: vehicle.id,
      data: { ...this.subject(subscription), signals },
      triggers,
      meta: {
        ...meta,
        version: '4.0',
        webhookId: webhook.id,
        webhookName: webhook.name,
        signalCount: signals.length,
        mode: 'LIVE',
      },
    }));
  }

  /** Posts an event to a verified webhook (retried; the same `eventId` each time). */
  private send(
    webhook: Webhook,
    eventType: string,
    event: (meta: { deliveryId: string; deliveredAt: string }) => object,
  ): void {
    const managementToken = this.managementToken(webhook);
    if (webhook.url === undefined || !webhook.verified || managementToken === undefined) return;
    const delivery = this.record(webhook.id, webhook.url, eventType);
    const body: EventBody = (meta) => ({ eventId: delivery.eventId, eventType, ...event(meta) });
    void deliver(delivery, body, this.deliveryOptions(managementToken));
  }

  /** VERIFY: the webhook is verified once the receiver answers 200 `{ challenge: HMAC(AMT, challenge) }`. */
  private async verify(webhook: Webhook): Promise<void> {
    const managementToken = this.managementToken(webhook);
    if (webhook.url === undefined || managementToken === undefined) return;
    const challenge = randomUUID();
    const delivery = this.record(webhook.id, webhook.url, 'VERIFY');
    const body: EventBody = (meta) => ({
      eventId: delivery.eventId,
      eventType: 'VERIFY',
      data: { challenge },
      meta: { version: '4.0', webhookId: webhook.id, webhookName: webhook.name, ...meta },
    });
    const expected = signature(managementToken, challenge);
    const accepted = ({ status, text }: { status: number; text: string }) =>
      status === 200 && answeredChallenge(text) === expected;
    const url = webhook.url;
    const verified = await deliver(delivery, body, {
      ...this.deliveryOptions(managementToken),
      retry: false,
      accepted,
    });
    // A URL changed meanwhile is verified on its own.
    if (!verified || this.webhooks.get(webhook.id)?.url !== url) return;
    webhook.verified = true;
    if (webhook.autoEnroll) this.enroll(webhook.clientId);
    for (const subscription of this.subscriptions.values()) {
      if (subscription.webhookId === webhook.id && !subscription.firstDelivered) {
        this.sendState(webhook, subscription, [{ code: 'FIRST_DELIVERY' }]);
      }
    }
  }

  private deliveryOptions(managementToken: string) {
    return {
      managementToken,
      scale: this.latency.settings.scale,
      now: this.store.now,
      stopped: () => this.closed,
    };
  }

  private managementToken(webhook: Webhook): string | undefined {
    return this.store.client(webhook.clientId)?.managementToken;
  }

  private record(webhookId: string, url: string, eventType: string): Delivery {
    const delivery: Delivery = {
      webhookId,
      url,
      eventType,
      eventId: randomUUID(),
      attempts: 0,
      statuses: [],
      status: 'pending',
    };
    this.log.push(delivery);
    return delivery;
  }
}

function answeredChallenge(text: string): unknown {
  try {
    return (JSON.parse(text) as { challenge?: unknown }).challenge;
  } catch {
    return undefined;
  }
}
